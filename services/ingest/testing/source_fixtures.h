// File: services/ingest/testing/source_fixtures.h
//
// The real publications the sources' tests serve (tests/data/real, read
// from the test's runfiles):
//   - the CSL sample csl_2025-06_sample.csv (a header and 13 listings, 3 of
//     them SSI) as v1, and v2: SME BANK's SSI row removed, VTB BANK's (line
//     5 of csl_2023-11_excerpt.csv) added;
//   - the five OpenSanctions delta versions of ftm/delta, served by a
//     SourceHttpServer at /v/<version>.json, and delta indexes of the first
//     n of them.
#ifndef GEORISK_SERVICES_INGEST_TESTING_SOURCE_FIXTURES_H_
#define GEORISK_SERVICES_INGEST_TESTING_SOURCE_FIXTURES_H_

#include <string>
#include <vector>

#include "services/ingest/testing/source_http_server.h"

namespace georisk::ingest::testing {

// The file at `path` below the runfiles root (the test's working
// directory); empty if unreadable.
std::string ReadTestFile(const std::string& path);

// The non-empty lines of `text`; Join writes them back, each ended by \n.
std::vector<std::string> Lines(const std::string& text);
std::string Join(const std::vector<std::string>& lines);

struct CslSeries {
  std::vector<std::string> v1;  // The header and 13 listings.
  std::vector<std::string> v2;  // SME BANK out, VTB BANK in.
};
// Empty vectors when a file is missing or not as described above.
CslSeries RealCslSeries();

// The versions of tests/data/real/ftm/delta, oldest first.
const std::vector<std::string>& DeltaVersions();
// Serves each version's entities.delta.json at /v/<version>.json.
void ServeDeltaVersions(SourceHttpServer* server);
// A delta index {"versions": {...}} of the first `n` versions, their URLs on
// `server`.
std::string DeltaIndex(const SourceHttpServer& server, size_t n);

}  // namespace georisk::ingest::testing

#endif  // GEORISK_SERVICES_INGEST_TESTING_SOURCE_FIXTURES_H_
