// File: services/scorer/model/cow.h
//
// Copy-on-write containers for the scorer's state. Each comes in two modes:
//
//   - live: it owns its data (a plain vector, map or CSR array);
//   - overlay: it reads through to a live container it does not own, and
//     keeps every write in a small map of its own. The live container is
//     only ever read (it is held by const pointer), so a what-if scenario
//     computed on overlays provably leaves the live state untouched.
//
//   CowVec<double> live;
//   live.PushBack(0.5);
//   CowVec<double> overlay(&live);   // O(1): nothing is copied
//   overlay.Set(0, 0.9);
//   overlay[0] == 0.9 && live[0] == 0.5;
//
// The live container must outlive its overlays and must not change while
// one exists (the engine holds the live state read-only during a scenario).
// Thread-compatible: concurrent const access is safe; any write needs
// exclusive access to the container written.
#ifndef GEORISK_SERVICES_SCORER_MODEL_COW_H_
#define GEORISK_SERVICES_SCORER_MODEL_COW_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"

namespace georisk::scorer::internal {

// A vector; in overlay mode, indices below the base's size read through to
// the base unless written, and PushBack appends past the base's end.
template <typename T>
class CowVec {
 public:
  CowVec() = default;
  explicit CowVec(const CowVec* base) : base_(base), base_size_(base->size()) {}
  CowVec(const CowVec&) = delete;
  CowVec& operator=(const CowVec&) = delete;
  CowVec(CowVec&&) = default;
  CowVec& operator=(CowVec&&) = default;

  bool is_overlay() const { return base_ != nullptr; }
  size_t size() const { return base_size_ + own_.size(); }

  // The live case stays small enough to inline into hot loops; the overlay
  // lookup is out of line.
  const T& operator[](size_t i) const {
    if (ABSL_PREDICT_TRUE(base_ == nullptr)) return own_[i];
    return OverlayAt(i);
  }

  // A reference valid until the next write to this container.
  T& Mutable(size_t i) {
    if (base_ == nullptr) return own_[i];
    if (i >= base_size_) return own_[i - base_size_];
    auto it = overlay_.find(static_cast<uint32_t>(i));
    if (it == overlay_.end()) {
      it = overlay_.emplace(static_cast<uint32_t>(i), (*base_)[i]).first;
    }
    return it->second;
  }

  void Set(size_t i, T value) { Mutable(i) = std::move(value); }
  void PushBack(T value) { own_.push_back(std::move(value)); }

  // Live mode only: the owned vector, for bulk building.
  std::vector<T>& live() { return own_; }
  const std::vector<T>& live() const { return own_; }

  // Overlay mode: the indices below the base's size written so far.
  template <typename Fn>
  void ForEachOverridden(Fn fn) const {
    for (const auto& [i, v] : overlay_) fn(static_cast<size_t>(i), v);
  }

 private:
  ABSL_ATTRIBUTE_NOINLINE const T& OverlayAt(size_t i) const {
    if (i >= base_size_) return own_[i - base_size_];
    auto it = overlay_.find(static_cast<uint32_t>(i));
    return it == overlay_.end() ? (*base_)[i] : it->second;
  }

  const CowVec* base_ = nullptr;
  size_t base_size_ = 0;
  std::vector<T> own_;
  absl::flat_hash_map<uint32_t, T> overlay_;
};

// A hash map; in overlay mode, keys read through to the base unless written
// or erased.
template <typename K, typename V>
class CowMap {
 public:
  CowMap() = default;
  explicit CowMap(const CowMap* base) : base_(base) {}
  CowMap(const CowMap&) = delete;
  CowMap& operator=(const CowMap&) = delete;
  CowMap(CowMap&&) = default;
  CowMap& operator=(CowMap&&) = default;

  bool is_overlay() const { return base_ != nullptr; }

  // nullptr when absent. Valid until the next write.
  template <typename Key>
  const V* Find(const Key& key) const {
    if (base_ == nullptr) {
      auto it = live_.find(key);
      return it == live_.end() ? nullptr : &it->second;
    }
    auto it = overlay_.find(key);
    if (it != overlay_.end()) return it->second ? &*it->second : nullptr;
    return base_->Find(key);
  }

  void Set(const K& key, V value) {
    if (base_ == nullptr) {
      live_.insert_or_assign(key, std::move(value));
    } else {
      overlay_.insert_or_assign(key, std::optional<V>(std::move(value)));
    }
  }

  void Erase(const K& key) {
    if (base_ == nullptr) {
      live_.erase(key);
    } else {
      overlay_.insert_or_assign(key, std::optional<V>());
    }
  }

  // Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    if (base_ == nullptr) {
      for (const auto& [k, v] : live_) fn(k, v);
      return;
    }
    for (const auto& [k, v] : overlay_) {
      if (v) fn(k, *v);
    }
    for (const auto& [k, v] : base_->live_) {
      if (!overlay_.contains(k)) fn(k, v);
    }
  }

  void Clear() {
    live_.clear();
    overlay_.clear();
  }

  // Live mode: replaces every value v with fn(v).
  template <typename Fn>
  void RemapValues(Fn fn) {
    for (auto& [k, v] : live_) v = fn(v);
  }

 private:
  const CowMap* base_ = nullptr;
  absl::flat_hash_map<K, V> live_;
  absl::flat_hash_map<K, std::optional<V>> overlay_;
};

// Per-node lists of items in compressed sparse row form, editable: a node's
// list lives in the CSR arrays until it is first edited, then in a vector of
// its own ("replaced"). Compact() folds the replaced lists back into fresh
// CSR arrays (live mode). An overlay replaces lists in its own map.
//
// Spans returned by List() stay valid until the next edit of this container
// or Compact().
template <typename Item>
class Adjacency {
 public:
  Adjacency() = default;
  explicit Adjacency(const Adjacency* base) : base_(base) {}
  Adjacency(const Adjacency&) = delete;
  Adjacency& operator=(const Adjacency&) = delete;
  Adjacency(Adjacency&&) = default;
  Adjacency& operator=(Adjacency&&) = default;

  // Live mode: rebuilds from (node, item) pairs for nodes [0, n). Items of
  // one node keep their relative order.
  void Build(size_t n, const std::vector<std::pair<uint32_t, Item>>& items) {
    offsets_.assign(n + 1, 0);
    for (const auto& [v, item] : items) ++offsets_[v + 1];
    for (size_t i = 0; i < n; ++i) offsets_[i + 1] += offsets_[i];
    items_.resize(items.size());
    std::vector<uint64_t> fill(offsets_.begin(), offsets_.end() - 1);
    for (const auto& [v, item] : items) items_[fill[v]++] = item;
    replaced_flag_.assign(n, 0);
    replaced_.clear();
    replaced_items_ = 0;
  }

  // Live mode: builds directly from CSR arrays.
  void BuildFromCsr(std::vector<uint64_t> offsets, std::vector<Item> items) {
    offsets_ = std::move(offsets);
    items_ = std::move(items);
    replaced_flag_.assign(offsets_.empty() ? 0 : offsets_.size() - 1, 0);
    replaced_.clear();
    replaced_items_ = 0;
  }

  absl::Span<const Item> List(uint32_t v) const {
    // The common case (live, list not edited) inline; the rest out of line.
    if (ABSL_PREDICT_TRUE(base_ == nullptr && v < replaced_flag_.size() &&
                          !replaced_flag_[v])) {
      return absl::Span<const Item>(items_.data() + offsets_[v],
                                    offsets_[v + 1] - offsets_[v]);
    }
    return EditedList(v);
  }

  // Starts loading where v's list is (live mode; a hint, no effect on
  // results).
  void PrefetchPlace(uint32_t v) const {
    if (base_ == nullptr && v < replaced_flag_.size()) {
      __builtin_prefetch(&offsets_[v]);
      __builtin_prefetch(&replaced_flag_[v]);
    }
  }

  // The node's list, made editable (copied out of the CSR arrays or the base
  // on first use). Valid until the next edit.
  std::vector<Item>& Edit(uint32_t v) {
    auto it = replaced_.find(v);
    if (it != replaced_.end()) return it->second;
    absl::Span<const Item> current = List(v);
    std::vector<Item>& list =
        replaced_.emplace(v, std::vector<Item>(current.begin(), current.end()))
            .first->second;
    if (base_ == nullptr && v < replaced_flag_.size()) replaced_flag_[v] = 1;
    replaced_items_ += list.size() + 1;
    return list;
  }

  void Add(uint32_t v, const Item& item) {
    Edit(v).push_back(item);
    ++replaced_items_;
  }

  // Removes the first item matching `pred`; false when none does.
  template <typename Pred>
  bool Remove(uint32_t v, Pred pred) {
    std::vector<Item>& list = Edit(v);
    for (size_t i = 0; i < list.size(); ++i) {
      if (pred(list[i])) {
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        return true;
      }
    }
    return false;
  }

  // Live mode: true when enough lists were replaced that Compact() pays.
  bool ShouldCompact() const {
    return base_ == nullptr && replaced_items_ > items_.size() / 4 + 4096;
  }

  // Live mode: folds replaced lists into fresh CSR arrays for nodes [0, n).
  void Compact(size_t n) {
    std::vector<uint64_t> offsets(n + 1, 0);
    for (uint32_t v = 0; v < n; ++v)
      offsets[v + 1] = offsets[v] + List(v).size();
    std::vector<Item> items;
    items.reserve(offsets[n]);
    for (uint32_t v = 0; v < n; ++v) {
      absl::Span<const Item> list = List(v);
      items.insert(items.end(), list.begin(), list.end());
    }
    BuildFromCsr(std::move(offsets), std::move(items));
  }

  size_t base_items() const { return items_.size(); }

  // Live mode: the CSR arrays, valid for every node when no list was edited
  // since the last Build/Compact (for tight loops over all nodes).
  bool Pristine() const { return base_ == nullptr && replaced_.empty(); }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::vector<Item>& items() const { return items_; }

 private:
  ABSL_ATTRIBUTE_NOINLINE absl::Span<const Item> EditedList(uint32_t v) const {
    if (base_ != nullptr) {
      auto it = replaced_.find(v);
      if (it != replaced_.end()) return absl::MakeConstSpan(it->second);
      return base_->List(v);
    }
    auto it = replaced_.find(v);
    if (it == replaced_.end()) return {};
    return absl::MakeConstSpan(it->second);
  }

  const Adjacency* base_ = nullptr;
  std::vector<uint64_t> offsets_;
  std::vector<Item> items_;
  std::vector<uint8_t> replaced_flag_;
  absl::flat_hash_map<uint32_t, std::vector<Item>> replaced_;
  size_t replaced_items_ = 0;
};

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_COW_H_
