#include "domain/normalize.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"

namespace georisk::domain {
namespace {

void Trim(std::string* s) {
  const absl::string_view t = absl::StripAsciiWhitespace(*s);
  if (t.size() != s->size()) *s = std::string(t);
}

void TrimAll(google::protobuf::RepeatedPtrField<std::string>* values,
             bool drop_blank) {
  int out = 0;
  for (int i = 0; i < values->size(); ++i) {
    std::string* v = values->Mutable(i);
    Trim(v);
    if (drop_blank && v->empty()) continue;
    if (out != i) values->Mutable(out)->swap(*v);
    ++out;
  }
  while (values->size() > out) values->RemoveLast();
}

void UpperCountry(std::string* s) { *s = NormalizeCountry(*s); }

void UpperCountries(google::protobuf::RepeatedPtrField<std::string>* values) {
  for (std::string& v : *values) UpperCountry(&v);
}

void HsCode(std::string* s) { *s = NormalizeHsCode(*s); }

void HsCodes(google::protobuf::RepeatedPtrField<std::string>* values) {
  for (std::string& v : *values) HsCode(&v);
}

void NormalizeEntity(v1::Entity* e) {
  Trim(e->mutable_id());
  Trim(e->mutable_name());
  UpperCountry(e->mutable_country());
  UpperCountry(e->mutable_region());
  HsCodes(e->mutable_product_codes());
  TrimAll(e->mutable_aliases(), /*drop_blank=*/true);
  for (auto& [scheme, value] : *e->mutable_identifiers()) Trim(&value);
  Trim(e->mutable_source());
}

void NormalizeEdgeKey(std::string* from, std::string* to, std::string* code) {
  Trim(from);
  Trim(to);
  HsCode(code);
}

void NormalizeSignal(v1::Signal* s) {
  Trim(s->mutable_id());
  switch (s->detail_case()) {
    case v1::Signal::kExportControl: {
      v1::ExportControl* c = s->mutable_export_control();
      UpperCountry(c->mutable_authority());
      TrimAll(c->mutable_target_ids(), /*drop_blank=*/false);
      UpperCountries(c->mutable_destination_countries());
      HsCodes(c->mutable_product_codes());
      Trim(c->mutable_list());
      break;
    }
    case v1::Signal::kTariff: {
      v1::Tariff* t = s->mutable_tariff();
      Trim(t->mutable_programme());
      UpperCountry(t->mutable_importer_country());
      UpperCountry(t->mutable_origin_country());
      HsCode(t->mutable_hs_prefix());
      break;
    }
    case v1::Signal::kTension: {
      v1::Tension* t = s->mutable_tension();
      Trim(t->mutable_theatre());
      bool lower_case_key = false;
      for (const auto& [country, weight] : t->country_weights()) {
        if (NormalizeCountry(country) != country) lower_case_key = true;
      }
      if (lower_case_key) {
        std::vector<std::pair<std::string, double>> weights;
        for (const auto& [country, weight] : t->country_weights()) {
          weights.emplace_back(NormalizeCountry(country), weight);
        }
        t->clear_country_weights();
        // On a clash ("tw" and "TW") the last one read wins; validation has
        // nothing to say about it.
        for (auto& [country, weight] : weights) {
          (*t->mutable_country_weights())[country] = weight;
        }
      }
      break;
    }
    case v1::Signal::DETAIL_NOT_SET:
      break;
  }
  Trim(s->mutable_source());
  Trim(s->mutable_title());
}

}  // namespace

std::string NormalizeCountry(absl::string_view code) {
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(code));
}

std::string NormalizeHsCode(absl::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : absl::StripAsciiWhitespace(code)) {
    if (c != '.' && c != ' ') out.push_back(c);
  }
  return out;
}

void NormalizeMutation(v1::Mutation* m) {
  switch (m->kind_case()) {
    case v1::Mutation::kUpsertEntity:
      NormalizeEntity(m->mutable_upsert_entity());
      break;
    case v1::Mutation::kUpsertEdge: {
      v1::Edge* e = m->mutable_upsert_edge();
      NormalizeEdgeKey(e->mutable_from_id(), e->mutable_to_id(),
                       e->mutable_product_code());
      Trim(e->mutable_source());
      break;
    }
    case v1::Mutation::kUpsertSignal:
      NormalizeSignal(m->mutable_upsert_signal());
      break;
    case v1::Mutation::kDeleteEntityId:
      Trim(m->mutable_delete_entity_id());
      break;
    case v1::Mutation::kDeleteEdge: {
      v1::EdgeKey* k = m->mutable_delete_edge();
      NormalizeEdgeKey(k->mutable_from_id(), k->mutable_to_id(),
                       k->mutable_product_code());
      break;
    }
    case v1::Mutation::kDeleteSignalId:
      Trim(m->mutable_delete_signal_id());
      break;
    case v1::Mutation::kUpsertLink: {
      v1::Link* l = m->mutable_upsert_link();
      Trim(l->mutable_entity_a());
      Trim(l->mutable_entity_b());
      Trim(l->mutable_source());
      break;
    }
    case v1::Mutation::kDeleteLink:
      Trim(m->mutable_delete_link()->mutable_entity_a());
      Trim(m->mutable_delete_link()->mutable_entity_b());
      break;
    case v1::Mutation::KIND_NOT_SET:
      break;
  }
}

}  // namespace georisk::domain
