// File: services/georiskctl/history_command.h
//
// georiskctl history ENTITY [--from T] [--to T] [--factor F] [--as_of T]:
// Scorer.GetScoreHistory, every page, as a table (time, sequence, score,
// band, factors, rebuild mark, reason) under a sparkline of the score, or
// the responses' points as JSON (--output json).
#ifndef GEORISK_SERVICES_GEORISKCTL_HISTORY_COMMAND_H_
#define GEORISK_SERVICES_GEORISKCTL_HISTORY_COMMAND_H_

#include <string>
#include <vector>

#include "services/georiskctl/commands.h"

namespace georisk::cli {

// Exit codes: kExitOk, kExitUsage (bad flags, not one id), and the
// scorer's errors (NOT_FOUND: no history) as the other commands.
int HistoryCommand(const CommandOptions& options,
                   const std::vector<std::string>& args);

// One block character per value in [0, 100] (clamped): "▁" .. "█".
std::string Sparkline(const std::vector<double>& values);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_HISTORY_COMMAND_H_
