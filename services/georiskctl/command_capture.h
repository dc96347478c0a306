// File: services/georiskctl/command_capture.h
//
// For georiskctl's command tests: runs a command with its output and error
// streams captured in temporary files, and hands back what it printed.
//
//   std::string out, err;
//   int code = RunCaptured(TopCommand, options, {}, &out, &err);
//
// Thread-safety: each call uses its own files.
#ifndef GEORISK_SERVICES_GEORISKCTL_COMMAND_CAPTURE_H_
#define GEORISK_SERVICES_GEORISKCTL_COMMAND_CAPTURE_H_

#include <cstdio>
#include <string>
#include <vector>

namespace georisk::cli {

// Everything written to `f`, from its start.
inline std::string ReadCaptured(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
    text.append(buffer, n);
  }
  return text;
}

// Runs command(options, args) with options.client.out and .err redirected;
// `options` is any options struct with a `client` (ClientOptions).
template <typename Command, typename Options>
int RunCaptured(Command command, Options options,
                const std::vector<std::string>& args, std::string* out,
                std::string* err) {
  std::FILE* out_file = std::tmpfile();
  std::FILE* err_file = std::tmpfile();
  options.client.out = out_file;
  options.client.err = err_file;
  const int code = command(options, args);
  *out = ReadCaptured(out_file);
  *err = ReadCaptured(err_file);
  std::fclose(out_file);
  std::fclose(err_file);
  return code;
}

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_COMMAND_CAPTURE_H_
