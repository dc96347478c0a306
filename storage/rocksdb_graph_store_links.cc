// File: storage/rocksdb_graph_store_links.cc
//
// The link reads of RocksDbGraphStore: ListLinks (one entity's links, or
// every link once, by the copy under entity_a) and GetLink. Links are
// written by Apply (internal::BatchBuilder).
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "domain/validation.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"
#include "storage/internal/page_token.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::DecodePageToken;
using internal::EncodePageToken;
using internal::IsPrimaryLinkKey;
using internal::kAllLinksTag;
using internal::kEntityLinksTag;
using internal::kLinksCf;
using internal::ParseRecord;
using internal::ScopedSnapshot;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

}  // namespace

absl::StatusOr<LinkPage> RocksDbGraphStore::ListLinks(const LinkQuery& query) {
  const bool all = query.entity_id.empty();
  if (!all) {
    RETURN_IF_ERROR(domain::ValidateId(query.entity_id, domain::IdKind::kEntity,
                                       "entity_id"));
  }
  if (!v1::Link::Judgement_IsValid(query.judgement)) {
    return absl::InvalidArgumentError(
        absl::StrCat("judgement: unknown judgement ", query.judgement));
  }
  int limit;
  ASSIGN_OR_RETURN(limit, domain::PageSize(query.page_size));
  const std::string prefix = all ? "" : internal::LinkPrefix(query.entity_id);
  const char want_tag = all ? kAllLinksTag : kEntityLinksTag;
  std::string resume;
  if (!query.page_token.empty()) {
    char tag;
    RETURN_IF_ERROR(DecodePageToken(query.page_token, &tag, &resume));
    if (tag != want_tag || !absl::StartsWith(resume, prefix)) {
      return absl::InvalidArgumentError(
          "page_token: does not belong to this query");
    }
  }
  ScopedSnapshot snapshot(db_->db.get());
  rocksdb::ReadOptions read = snapshot.ReadOptions();
  const std::string upper = internal::PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  if (all) {
    read.total_order_seek = true;
  } else {
    read.iterate_upper_bound = &upper_slice;
    read.prefix_same_as_start = true;
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(read, db_->cf(kLinksCf)));
  const std::string& start = resume.empty() ? prefix : resume;
  LinkPage page;
  v1::Link link;
  for (start.empty() ? it->SeekToFirst() : it->Seek(start); it->Valid();
       it->Next()) {
    if (all) {
      ASSIGN_OR_RETURN(const bool primary, IsPrimaryLinkKey(View(it->key())));
      if (!primary) continue;
    }
    link.Clear();
    RETURN_IF_ERROR(
        ParseRecord(View(it->value()), "link", View(it->key()), &link));
    if (query.judgement != v1::Link::JUDGEMENT_UNSPECIFIED &&
        link.judgement() != query.judgement) {
      continue;
    }
    if (page.links.size() == static_cast<size_t>(limit)) {
      page.next_page_token = EncodePageToken(want_tag, View(it->key()));
      break;
    }
    page.links.push_back(std::move(link));
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "scanning links"));
  return page;
}

absl::StatusOr<v1::Link> RocksDbGraphStore::GetLink(
    absl::string_view entity_a, absl::string_view entity_b) {
  v1::LinkKey key;
  key.set_entity_a(std::string(entity_a));
  key.set_entity_b(std::string(entity_b));
  RETURN_IF_ERROR(domain::ValidateLinkKey(key, ""));
  // The copy under the smaller id, unless that id is another shard's: then
  // this shard holds the copy under the larger one (docs/scale-out.md,
  // "Links across shards").
  absl::string_view low = entity_a < entity_b ? entity_a : entity_b;
  absl::string_view high = entity_a < entity_b ? entity_b : entity_a;
  if (options_.partition_map.shard_count() > 1 &&
      options_.partition_map.ShardOf(low) != options_.shard_index) {
    std::swap(low, high);
  }
  const std::string k = internal::EncodeLinkKey(low, high);
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), db_->cf(kLinksCf),
                                   ToSlice(k), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no link between ", entity_a, " and ", entity_b));
  }
  RETURN_IF_ERROR(ToAbslStatus(s, "reading a link"));
  v1::Link link;
  RETURN_IF_ERROR(ParseRecord(View(value), "link", k, &link));
  return link;
}

}  // namespace georisk::storage
