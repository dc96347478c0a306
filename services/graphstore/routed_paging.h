// File: services/graphstore/routed_paging.h
//
// Paging across graphstore shards (docs/scale-out.md, "Reads across
// shards"): the router's page token, which carries one position per shard,
// and the merge of the shards' pages into one page in the order one
// unpartitioned store would list them.
//
// A shard's position is the shard's own page token of the page being read
// (empty: its first page) and the order key of the last record of that page
// the router already returned (empty: none). Resuming re-reads that page and
// skips the records up to that key, so a record written or deleted between
// two calls may or may not appear, but none appears twice and none that
// existed throughout is missed: the store's own promise for its pages. A
// shard whose listing has ended has no position.
//
//   std::vector<ShardPosition> at = FirstPositions(3);
//   if (!request_token.empty()) {
//     ASSIGN_OR_RETURN(at, DecodeRoutedToken(request_token,
//                                            RoutedListing::kSignals, 3));
//   }
//   ASSIGN_OR_RETURN(MergedPage<v1::Signal> page,
//                    MergePages<v1::Signal>(at, limit, fetch, order));
//   next_page_token = page.next.empty() ? "" : EncodeRoutedToken(
//       RoutedListing::kSignals, 3, page.next);
//
// Thread safety: pure functions (MergePages calls `fetch` on the calling
// thread, one shard after another).
#ifndef GEORISK_SERVICES_GRAPHSTORE_ROUTED_PAGING_H_
#define GEORISK_SERVICES_GRAPHSTORE_ROUTED_PAGING_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace georisk::graphstore {

// Which listing a routed token belongs to: a token of one is refused by the
// other.
enum class RoutedListing : char {
  kSignals = 's',
  kIdentifiers = 'i',
  // The Resolution service's review queue (routed_resolution.h); its
  // tokens are bound to the request's filters (`query` below).
  kReviewQueue = 'q',
};

// One shard's position in a routed listing.
struct ShardPosition {
  int shard = 0;
  // The shard's own token of the page being read; empty: its first page.
  std::string page_token;
  // The order key of the last record of that page already returned; empty:
  // none yet.
  std::string after;

  friend bool operator==(const ShardPosition& a, const ShardPosition& b) {
    return a.shard == b.shard && a.page_token == b.page_token &&
           a.after == b.after;
  }
};

// Every shard of `shard_count` at its first page.
std::vector<ShardPosition> FirstPositions(int shard_count);

// The token of `positions` (shards ascending, each once): web-safe base64 of
// version | listing | [query] | shard count | per shard (index, token, key)
// | checksum (the low 32 bits of FNV-1a 64 of what precedes it). `query`,
// when not empty, is the text of the request's filters, which the token is
// then bound to (a listing that has filters beyond what each shard's token
// checks); empty leaves it out, so the tokens of the listings without one
// are what they always were.
std::string EncodeRoutedToken(RoutedListing listing, int shard_count,
                              const std::vector<ShardPosition>& positions,
                              absl::string_view query = "");

// Inverse of EncodeRoutedToken, with the `query` the token was issued for.
// Errors: INVALID_ARGUMENT naming page_token: "page_token: malformed" (not
// base64, truncated, a checksum that fails, another version, shards out of
// order or out of range), "page_token: does not belong to this query"
// (another listing), "page_token: belongs to other filters" (another
// `query`), "page_token: was issued by a router over N shards, this one
// routes to M" (another map).
absl::StatusOr<std::vector<ShardPosition>> DecodeRoutedToken(
    absl::string_view token, RoutedListing listing, int shard_count,
    absl::string_view query = "");

// One page of one shard.
template <typename Record>
struct ShardPage {
  std::vector<Record> records;
  // Empty on the shard's last page.
  std::string next_page_token;
};

template <typename Record>
struct MergedPage {
  // At most `limit`, in order-key order.
  std::vector<Record> records;
  // Where the next page starts; empty when every shard's listing ended.
  std::vector<ShardPosition> next;
};

// Reads shard `shard`'s page at `page_token` (the query's other fields are
// the caller's). Its records must be in order-key order.
template <typename Record>
using FetchShardPage = std::function<absl::StatusOr<ShardPage<Record>>(
    int shard, const std::string& page_token)>;

// The next `limit` records (limit > 0) of the shards' listings merged by
// `order_key`, from `positions`, reading each shard's pages with `fetch` as
// needed. A page is short only when it is the last. Errors: the first error
// of `fetch`, as it is.
template <typename Record>
absl::StatusOr<MergedPage<Record>> MergePages(
    const std::vector<ShardPosition>& positions, int limit,
    const FetchShardPage<Record>& fetch,
    const std::function<std::string(const Record&)>& order_key) {
  struct Cursor {
    ShardPosition at;
    std::vector<Record> records;
    std::vector<std::string> keys;
    size_t head = 0;
    std::string next_page_token;
  };
  std::vector<Cursor> cursors;
  cursors.reserve(positions.size());
  // Reads the cursor's page at `at.page_token`, skipping up to `at.after`.
  auto load = [&](Cursor& c) -> absl::Status {
    absl::StatusOr<ShardPage<Record>> page = fetch(c.at.shard, c.at.page_token);
    if (!page.ok()) return page.status();
    c.records = std::move(page->records);
    c.next_page_token = std::move(page->next_page_token);
    c.keys.clear();
    c.head = 0;
    for (const Record& r : c.records) c.keys.push_back(order_key(r));
    while (!c.at.after.empty() && c.head < c.keys.size() &&
           c.keys[c.head] <= c.at.after) {
      ++c.head;
    }
    return absl::OkStatus();
  };
  // Moves an exhausted cursor to its next page; false when it has none.
  auto refill = [&](Cursor& c) -> absl::StatusOr<bool> {
    while (c.head == c.records.size()) {
      if (c.next_page_token.empty()) return false;
      c.at.page_token = std::move(c.next_page_token);
      c.at.after.clear();
      absl::Status s = load(c);
      if (!s.ok()) return s;
    }
    return true;
  };
  for (const ShardPosition& p : positions) {
    Cursor& c = cursors.emplace_back();
    c.at = p;
    absl::Status s = load(c);
    if (!s.ok()) return s;
  }
  MergedPage<Record> out;
  // Drops the cursors whose listing ended; the rest have a head record.
  auto live = [&]() -> absl::Status {
    for (size_t i = 0; i < cursors.size();) {
      absl::StatusOr<bool> more = refill(cursors[i]);
      if (!more.ok()) return more.status();
      if (*more) {
        ++i;
      } else {
        cursors.erase(cursors.begin() + i);
      }
    }
    return absl::OkStatus();
  };
  while (out.records.size() < static_cast<size_t>(limit)) {
    absl::Status s = live();
    if (!s.ok()) return s;
    if (cursors.empty()) break;
    size_t best = 0;
    for (size_t i = 1; i < cursors.size(); ++i) {
      if (cursors[i].keys[cursors[i].head] <
          cursors[best].keys[cursors[best].head]) {
        best = i;
      }
    }
    Cursor& c = cursors[best];
    c.at.after = c.keys[c.head];
    out.records.push_back(std::move(c.records[c.head]));
    ++c.head;
  }
  // A store gives a next token only when a record follows, so a shard with
  // one has more to list: its position is that page, nothing returned yet.
  for (Cursor& c : cursors) {
    if (c.head < c.records.size()) {
      out.next.push_back(std::move(c.at));
    } else if (!c.next_page_token.empty()) {
      out.next.push_back({c.at.shard, std::move(c.next_page_token), ""});
    }
  }
  return out;
}

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_ROUTED_PAGING_H_
