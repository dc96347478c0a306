// A libFuzzer target for one parser of services/ingest, chosen at compile
// time with -DGEORISK_FUZZ_FORMAT=<name of a formats::Format value>, e.g.
// -DGEORISK_FUZZ_FORMAT=kCslJson. run_fuzzers.sh builds one per format with
// clang's -fsanitize=fuzzer,address.
//
// Besides "no crash, no leak, no out-of-bounds access", it checks what every
// parser promises (record_parser.h): each record is either rejected with a
// reason and no mutations, or has mutations that pass the record rules;
// lines are counted from 1; the whole input is consumed unless a CSV header
// was rejected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "domain/record_validation.h"
#include "formats/parsers.h"

#ifndef GEORISK_FUZZ_FORMAT
#error "define GEORISK_FUZZ_FORMAT, e.g. -DGEORISK_FUZZ_FORMAT=kJsonl"
#endif

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace georisk::formats;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  ParserOptions options;
  // Small, so that the too-long paths run often.
  options.max_record_bytes = 512;
  if (size > 0 && data[0] % 3 == 0) options.ftm_pass = FtmPass::kNodes;
  if (size > 0 && data[0] % 3 == 1) options.ftm_pass = FtmPass::kOwnerships;
  auto parser = MakeParser(Format::GEORISK_FUZZ_FORMAT, &in, options);
  Check(parser.ok());
  ParsedRecord record;
  bool header_rejected = false;
  int64_t records = 0;
  while ((*parser)->Next(&record)) {
    Check(++records <= static_cast<int64_t>(size) + 1);
    Check(record.line >= 1);
    if (record.rejected()) {
      Check(record.mutations.empty());
      header_rejected = record.field == "header";
      continue;
    }
    Check(!record.mutations.empty() && record.mutations.size() <= 2);
    for (const auto& m : record.mutations) {
      Check(ValidateRecord(m, options.limits).ok());
    }
  }
  Check(header_rejected ||
        (*parser)->bytes_read() == static_cast<int64_t>(size));
  return 0;
}
