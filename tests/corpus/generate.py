#!/usr/bin/env python3
"""Writes the malformed-input corpus of tests/ingest_import_test.cc.

Each file mixes good records with malformed ones. EXPECTED.tsv lists every
malformed record: file, line, the field the rejection must name, and a
substring its reason must contain. The test imports the files with
`georiskctl import`, and checks that exactly these records are rejected,
each for its reason, and that every other record landed (GOOD.tsv: file and
the number of records that must be accepted).

Run from the repository root after changing it: python3 tests/corpus/generate.py
The 100 MB line and the random binary file are made by the test itself.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
expected = []  # (file, line, field, reason)
good = {}      # file -> records accepted


def company(cid, name="Acme", country="TW", **extra):
    e = {"id": cid, "kind": "COMPANY", "name": name, "country": country,
         "source": "corpus"}
    e.update(extra)
    return {"upsert_entity": e}


class Lines:
    def __init__(self, name):
        self.name = name
        self.lines = []  # bytes

    def good(self, line, records=1):
        self.lines.append(line if isinstance(line, bytes) else line.encode())
        good[self.name] = good.get(self.name, 0) + records

    def bad(self, line, field, reason):
        self.lines.append(line if isinstance(line, bytes) else line.encode())
        expected.append((self.name, len(self.lines), field, reason))

    def write(self):
        with open(os.path.join(HERE, self.name), "wb") as f:
            f.write(b"\n".join(self.lines) + b"\n")


def j(obj):
    return json.dumps(obj, separators=(",", ":"))


# --------------------------------------------------------------------------
# georisk JSON Lines.
f = Lines("bad.jsonl")
n = 0


def next_id():
    global n
    n += 1
    return "company/jl-%d" % n


f.good(j(company("company/jl-parent")))
f.good(j(company("company/jl-child", country="KR")))
truncated = [
    ('{"upsert_entity": {"id": "company/t1", "kind": "COMPANY"',
     "Unexpected end of string. Expected , or } after key:value pair."),
    ('{"upsert_entity": {"id": "company/t2", "name": "Acm',
     "Closing quote expected in string."),
    ('{"upsert_entity": ', "Unexpected end of string. Expected a value."),
    ('{"upsert_edge": {"weight": 0.', "Unexpected end of string."),
    ('{', "Unexpected end of string. Expected an object key or }."),
    ('{"upsert_entity": {"id": "company/t3"}}}',
     "Parsing terminated before end of input."),
    ('{"upsert_entity": {"id": "company/t4"}', "Unexpected end of string."),
    ('{"upsert_entity": {"id": company/t5}}', "Unexpected token."),
]
for t, reason in truncated:
    f.bad(t, "", reason)
    f.good(j(company(next_id())))
wrong_types = [
    ({"upsert_entity": {"id": 42}}, "upsert_entity.id", "invalid value 42"),
    ({"upsert_entity": {"name": ["A"]}}, "upsert_entity.name",
     "Proto field is not repeating, cannot start list."),
    ({"upsert_entity": {"aliases": {"a": 1}}}, "upsert_entity",
     "Starting an object on a scalar field for type aliases"),
    ({"upsert_edge": {"weight": "heavy"}}, "upsert_edge.weight", "invalid value \"heavy\""),
    ({"upsert_edge": {"weight": True}}, "upsert_edge.weight", "invalid value true"),
    ({"upsert_edge": {"effective_from": 1700000000}}, "upsert_edge.effective_from", "invalid value"),
    ({"upsert_signal": {"tariff": {"rate": "15%"}}}, "upsert_signal.tariff.rate", "invalid value \"15%\""),
    ({"upsert_entity": "company/x"}, "upsert_entity", "invalid value"),
    ({"idempotency_key": 7}, "idempotency_key", "invalid value 7"),
    ({"upsert_entity": {"location": {"latitude": "north"}}}, "upsert_entity.location.latitude", "invalid value"),
]
for obj, field, reason in wrong_types:
    f.bad(j(obj), field, reason)
f.good(j(company(next_id())))
for country, quoted in [("XX", "XX"), ("Taiwan", "TAIWAN"), ("T1", "T1"),
                        ("UK", "UK"), ("EU", "EU")]:
    f.bad(j(company(next_id(), country=country)), "upsert_entity.country",
          'ISO 3166-1 alpha-2 code, got "%s"' % quoted)
# A company's country is optional (no known address): blank is none.
f.good(j(company(next_id(), country="  ")))
f.good(j(company(next_id(), country=" jp ")))


def owns(w, **extra):
    e = {"from_id": "company/jl-parent", "to_id": "company/jl-child",
         "kind": "OWNS", "weight": w, "source": "corpus"}
    e.update(extra)
    return {"upsert_edge": e}


for w, reason in [("NaN", "got nan"), ("Infinity", "got inf"),
                  ("-Infinity", "got -inf"), (-0.5, "got -0.5"),
                  (-1e-9, "got -1e-09"), (1.5, "got 1.5"), (100, "got 100")]:
    f.bad(j(owns(w)), "upsert_edge.weight", "must be in [0, 1], " + reason)
f.good(j(owns(0.4)))
big = "x" * 600
f.bad(j(company(next_id(), name=big)), "upsert_entity.name",
      "must be at most 512 bytes, got 600")
f.bad(j(company(next_id(), source="s" * 5000)), "upsert_entity.source",
      "must be at most 4096 bytes, got 5000")
f.bad(j(company(next_id(), aliases=["a" * 1000])), "upsert_entity.aliases[0]",
      "must be at most 512 bytes, got 1000")
f.bad(j(dict(company(next_id()), idempotency_key="k" * 300)),
      "idempotency_key", "must be at most 256 bytes, got 300")
f.good(j(company(next_id())))
f.bad(j({"upsert_entity": {"id": "company/u", "colour": "red"}}),
      "upsert_entity.colour", "unknown field")
f.bad(j({"upsert_entity": {"kind": "HUMAN"}}), "upsert_entity.kind",
      'invalid value "HUMAN"')
# Persons (issue #14): one may own, with no country; none supplies, is
# supplied or operates, and a person's id says so.
f.good(j({"upsert_entity": {"id": "person/jl-investor", "kind": "PERSON",
                            "name": "Investor", "source": "corpus"}}))
f.bad(j(company("company/jl-person", kind="PERSON")), "upsert_entity.id",
      'must start with "person/" for a PERSON')
f.bad(j({"upsert_entity": {"id": "person/jl-seller", "kind": "PERSON",
                           "name": "Seller", "source": "corpus",
                           "product_codes": ["8542"]}}),
      "upsert_entity.product_codes", "must be empty for a PERSON")
f.good(j(owns(0.51, from_id="person/jl-investor", record_id="stake-2025")))
f.bad(j(owns(0.3, from_id="person/jl-investor", kind="SUPPLIES")),
      "upsert_edge.from_id", "must be a company or a facility for SUPPLIES")
f.bad(j(owns(0.3, to_id="person/jl-investor", kind="SUPPLIES")),
      "upsert_edge.to_id", "must be a company or a facility for SUPPLIES")
f.bad(j(owns(0.3, from_id="person/jl-investor", kind="OPERATES",
             to_id="facility/f")),
      "upsert_edge.from_id", "must be a company for OPERATES")
f.bad(j(owns(0.3, record_id="with space")), "upsert_edge.record_id",
      "printable ASCII")
f.bad(j(company("company/enum", kind=9)), "upsert_entity.kind",
      "unknown entity kind 9")
f.bad(j({"upsert_edge": {"kind": "LOVES"}}), "upsert_edge.kind",
      'invalid value "LOVES"')
f.bad(j(company(next_id(), facility_type="FAB")), "upsert_entity.facility_type",
      "must be unset for a COMPANY")
f.bad(j(company("Company/Upper")), "upsert_entity.id", "with a slug matching")
f.bad(j(company("company/")), "upsert_entity.id", "with a slug matching")
f.bad(j(company("supplier/x")), "upsert_entity.id", "with a slug matching")
f.bad(j(company("facility/x")), "upsert_entity.id",
      'must start with "company/" for a COMPANY')
f.bad(j(company(next_id(), region="CN-JS")), "upsert_entity.region",
      'ISO 3166-2 code of country "TW"')
f.bad(j(company(next_id(), product_codes=["85a2"])),
      "upsert_entity.product_codes[0]", "HS code of 2 to 10 digits")
f.bad(j(company(next_id(), product_codes=["8"])),
      "upsert_entity.product_codes[0]", "HS code of 2 to 10 digits")
f.bad(j({"upsert_entity": {"id": "facility/f", "kind": "FACILITY", "name": "F",
                           "country": "TW", "source": "s",
                           "location": {"latitude": 91, "longitude": 0}}}),
      "upsert_entity.location.latitude", "must be in [-90, 90], got 91")
f.good(j(company(next_id())))
f.bad(j(owns(0.1, effective_from="2025-13-01T00:00:00Z")),
      "upsert_edge.effective_from", "Invalid time format")
f.bad(j(owns(0.1, effective_from="yesterday")), "upsert_edge.effective_from",
      "Invalid time format")
f.bad(j(owns(0.1, effective_from="2025-06-01T00:00:00Z",
             effective_until="2025-01-01T00:00:00Z")),
      "upsert_edge.effective_until", "must be after effective_from")
f.bad(j(owns(0.1, product_code="8542")), "upsert_edge.product_code",
      "must be empty unless kind is SUPPLIES")
f.bad(j(owns(0.1, kind="OPERATES")), "upsert_edge.to_id",
      "must be a facility for OPERATES")
f.bad(j(owns(0.1, annual_value_usd=-5)), "upsert_edge.annual_value_usd",
      "must be a finite number >= 0")
f.bad(j({"delete_entity_id": "company/a", "delete_signal_id": "signal/b"}),
      "kind", "more than one of")
f.bad("{}", "kind", "one of upsert_entity")
f.bad("[]", "", "not a JSON object")
f.bad('"just a string"', "", "not a JSON object")
f.bad("12345", "", "not a JSON object")
f.bad("null", "", "not a JSON object")
f.good(j(company(next_id())))
f.bad(j({"upsert_signal": {"id": "signal/x", "tariff": {
    "programme": "P", "importer_country": "US", "origin_country": "CN",
    "rate": -0.1}, "source": "s"}}), "upsert_signal.tariff.rate",
      "must be a finite number >= 0, got -0.1")
f.bad(j({"upsert_signal": {"id": "signal/y", "tension": {
    "theatre": "cross_strait", "level": 1.2}, "source": "s"}}),
      "upsert_signal.tension.level", "must be in [0, 1], got 1.2")
f.bad(j({"upsert_signal": {"id": "signal/z", "export_control": {
    "authority": "US-BIS", "kind": "ENTITY_LISTING", "severity": 0.5},
    "source": "s"}}), "upsert_signal.export_control.target_ids",
      "at least one target is required")
f.bad(j({"upsert_signal": {"id": "signal/w", "source": "s"}}),
      "upsert_signal.detail", "one of export_control, tariff, tension")
def tariff(**kw):
    t = {"programme": "Section 301", "importer_country": "US",
         "origin_country": "CN", "hs_prefix": "8541", "rate": 0.5}
    t.update(kw)
    return j({"upsert_signal": {"id": "signal/t-%d" % len(f.lines),
                                "tariff": t, "source": "s"}})


f.bad(tariff(importer_country="USA"), "upsert_signal.tariff.importer_country",
      'got "USA"')
f.bad(tariff(origin_country="**"), "upsert_signal.tariff.origin_country",
      'or "*", got "**"')
f.bad(tariff(hs_prefix="85411234567"), "upsert_signal.tariff.hs_prefix",
      "HS code of 2 to 10 digits")
f.bad(tariff(rate="NaN"), "upsert_signal.tariff.rate",
      "must be a finite number >= 0, got nan")
f.bad(tariff(rate="Infinity"), "upsert_signal.tariff.rate",
      "must be a finite number >= 0, got inf")
f.bad(tariff(programme=""), "upsert_signal.tariff.programme", "is required")
f.good(tariff())
f.bad(j({"upsert_signal": {"id": "signal/tw", "tension": {
    "theatre": "cross_strait", "level": 0.5,
    "country_weights": {"TW": "NaN"}}, "source": "s"}}),
      'upsert_signal.tension.country_weights["TW"]', "must be in [0, 1], got nan")
f.bad(j({"upsert_signal": {"id": "signal/tx", "tension": {
    "theatre": "cross_strait", "level": 0.5,
    "country_weights": {"XX": 0.5}}, "source": "s"}}),
      'upsert_signal.tension.country_weights["XX"]', 'got "XX"')
f.bad(j({"upsert_signal": {"id": "signal/ty", "tension": {
    "theatre": "Cross Strait", "level": 0.5}, "source": "s"}}),
      "upsert_signal.tension.theatre", "must match [a-z0-9_]{1,64}")
f.bad(j({"upsert_signal": {"id": "signal/ec", "export_control": {
    "authority": "us bis", "kind": "ENTITY_LISTING",
    "target_ids": ["company/jl-child"], "severity": 0.5}, "source": "s"}}),
      "upsert_signal.export_control.authority", "must match [A-Z0-9-]{2,32}")
f.bad(j({"upsert_signal": {"id": "signal/ed", "export_control": {
    "authority": "US-BIS", "kind": "ENTITY_LISTING",
    "target_ids": ["company/jl-child"], "severity": 0}, "source": "s"}}),
      "upsert_signal.export_control.severity", "must be in (0, 1], got 0")
f.bad(j({"upsert_signal": {"id": "signal/ee", "export_control": {
    "authority": "US-BIS", "kind": "DESTINATION_CONTROL",
    "destination_countries": ["Mars"], "severity": 0.5}, "source": "s"}}),
      "upsert_signal.export_control.destination_countries[0]",
      'got "MARS"')
f.bad(j({"upsert_signal": {"id": "Signal/Bad", "export_control": {
    "authority": "US-BIS", "kind": "ENTITY_LISTING",
    "target_ids": ["company/jl-child"], "severity": 0.5}, "source": "s"}}),
      "upsert_signal.id", "with a slug matching")
f.bad(j({"delete_edge": {"from_id": "company/a", "to_id": "company/b",
                         "kind": "OWNS", "product_code": "8542"}}),
      "delete_edge.product_code", "must be empty unless kind is SUPPLIES")
f.bad(j({"delete_entity_id": "company/" + "x" * 200}), "delete_entity_id",
      "with a slug matching")
f.good(j({"delete_entity_id": "company/never-existed"}))
# Binary garbage (no newline bytes in it).
for seed in range(6):
    garbage = bytes(((seed * 97 + i * 31) % 254) + 1 for i in range(40))
    garbage = garbage.replace(b"\n", b"?")
    f.bad(garbage, "", "not valid UTF-8")
f.bad(b"\xff\xfe{\"upsert_entity\":{}}", "", "not valid UTF-8")
f.good(j(company(next_id())))
# Rejected by graphstore: the endpoint does not exist.
f.bad(j(owns(0.2, to_id="company/nowhere")), "upsert_edge.to_id",
      "entity company/nowhere does not exist")
f.bad(j({"upsert_edge": {"from_id": "company/ghost", "to_id": "company/jl-child",
                         "kind": "SUPPLIES", "weight": 0.3, "source": "s"}}),
      "upsert_edge.from_id", "entity company/ghost does not exist")
f.good(j(company(next_id())))
f.write()

# --------------------------------------------------------------------------
# georisk CSV: entities.
f = Lines("bad_entities.csv")
f.lines.append(b"id,kind,name,country,region,latitude,longitude,facility_type,"
               b"product_codes,aliases,identifiers,source,idempotency_key")


def ent(cid="company/ce", kind="", name="N", country="TW", region="",
        lat="", lon="", ftype="", codes="", aliases="", ids="", source="s",
        key=""):
    return ",".join([cid, kind, name, country, region, lat, lon, ftype, codes,
                     aliases, ids, source, key])


for i in range(3):
    f.good(ent(cid="company/ce-good-%d" % i))
rows = [
    ("company/ce1,COMPANY,Short", "", "row has 3 fields, the header has 13"),
    (ent() + ",extra", "", "row has 14 fields, the header has 13"),
    (ent(country="Taiwan"), "country", 'got "TAIWAN"'),
    (ent(country="ZZ"), "country", 'got "ZZ"'),
    (ent(kind="HUMAN"), "kind", 'unknown kind "HUMAN"'),
    (ent(kind="PERSON"), "id", 'must start with "person/" for a PERSON'),
    (ent(cid="facility/f", lat="north", lon="1"), "latitude",
     'not a number: "north"'),
    (ent(cid="facility/f", lat="NaN", lon="1"), "latitude",
     'must be a finite number, got "NaN"'),
    (ent(cid="facility/f", lat="95", lon="1"), "latitude",
     "must be in [-90, 90], got 95"),
    (ent(cid="facility/f", lat="1", lon="181"), "longitude",
     "must be in [-180, 180], got 181"),
    (ent(cid="facility/f", lat="1"), "longitude", "together"),
    (ent(cid="facility/f", ftype="mine"), "facility_type",
     'unknown facility type "MINE"'),
    (ent(codes="85x2"), "product_codes", "HS code"),
    (ent(ids="lei"), "identifiers", "expected scheme=value"),
    (ent(ids="LEI=1"), "identifiers", "scheme must match"),
    (ent(name=""), "name", "is required"),
    (ent(name="n" * 700), "name", "must be at most 512 bytes, got 700"),
    (ent(source=""), "source", "is required"),
    (ent(cid="Company A"), "id", "with a slug matching"),
    (ent(cid="company/a", kind="FACILITY"), "id",
     'must start with "facility/"'),
    (ent(region="XX-1"), "region", 'ISO 3166-2 code of country "TW"'),
    (ent(key="k" * 300), "idempotency_key", "at most 256 bytes"),
    ('company/q,,"unterminated,TW,,,,,,,,s,', "", "unterminated quoted field"),
    ('company/q,,"A"B,TW,,,,,,,,s,', "", "unexpected text after a closing quote"),
]
for row, field, reason in rows:
    f.bad(row, field, reason)
    f.good(ent(cid="company/ce-%d" % len(f.lines)))
# No country (no known address): a company is imported without one.
f.good(ent(cid="company/ce-nowhere", country=""))
f.bad(b"\x00\x01\x02\x03,garbage", "", "row has 2 fields")
f.good(ent(cid="company/ce-last"))
f.write()

# --------------------------------------------------------------------------
# georisk CSV: edges (their endpoints come from bad_entities.csv).
f = Lines("bad_edges.csv")
f.lines.append(b"from_id,to_id,kind,weight,product_code,annual_value_usd,"
               b"effective_from,effective_until,source,idempotency_key")


def edge(frm="company/ce-good-0", to="company/ce-good-1", kind="OWNS", w="0.3",
         code="", value="", efrom="", euntil="", source="s", key=""):
    return ",".join([frm, to, kind, w, code, value, efrom, euntil, source, key])


f.good(edge())
rows = [
    (edge(w="NaN"), "weight", 'must be a finite number, got "NaN"'),
    (edge(w="nan"), "weight", 'must be a finite number, got "nan"'),
    (edge(w="-inf"), "weight", "must be a finite number"),
    (edge(w="-0.2"), "weight", "must be in [0, 1], got -0.2"),
    (edge(w="1.01"), "weight", "must be in [0, 1], got 1.01"),
    (edge(w="30%"), "weight", 'not a number: "30%"'),
    (edge(w=""), "weight", "is required"),
    (edge(kind=""), "kind", "is required"),
    (edge(kind="LOVES"), "kind", 'unknown kind "LOVES"'),
    (edge(efrom="2025-02-30"), "effective_from", 'not a date: "2025-02-30"'),
    (edge(efrom="01/02/2025"), "effective_from", 'not a date: "01/02/2025"'),
    (edge(euntil="soon"), "effective_until", 'not a date: "soon"'),
    (edge(efrom="2025-06-01", euntil="2025-01-01"), "effective_until",
     "must be after effective_from"),
    (edge(kind="SUPPLIES", code="8542", value="-1"), "annual_value_usd",
     "must be a finite number >= 0"),
    (edge(kind="SUPPLIES", code="85.4x"), "product_code", "HS code"),
    (edge(code="8542"), "product_code", "must be empty unless kind is SUPPLIES"),
    (edge(kind="OPERATES"), "to_id", "must be a facility for OPERATES"),
    (edge(kind="SUPPLIES", to="company/ce-good-0"), "to_id",
     "must differ from from_id"),
    (edge(frm="nobody"), "from_id", "with a slug matching"),
    (edge(source=""), "source", "is required"),
    (edge(value="5"), "annual_value_usd", "must be 0 unless kind is SUPPLIES"),
    ("company/ce-good-0,company/ce-good-1,OWNS", "", "row has 3 fields"),
    (edge(to="company/not-there"), "upsert_edge.to_id",
     "entity company/not-there does not exist"),
    (edge(frm="company/not-here", kind="SUPPLIES"), "upsert_edge.from_id",
     "entity company/not-here does not exist"),
]
for row, field, reason in rows:
    f.bad(row, field, reason)
    f.good(edge(w="0.%d" % (len(f.lines) % 9 + 1)))
f.write()

# --------------------------------------------------------------------------
# FollowTheMoney.
f = Lines("bad.ftm.json")


def ftm(fid, schema, **props):
    return j({"id": fid, "schema": schema,
              "properties": {k: v if isinstance(v, list) else [v]
                             for k, v in props.items()}})


# Ownerships first: the importer reads the file twice.
f.good(ftm("own-good", "Ownership", owner="ftm-a", asset="ftm-b",
           percentage="51"))
f.good(ftm("ftm-a", "Company", name="A Holdings", jurisdiction="ru"))
f.good(ftm("ftm-b", "Company", name="B Ltd", jurisdiction="cy"))
f.good(ftm("NK-CaseMatters", "Organization", name="Org", country="ir"))
f.good(ftm("le-1", "LegalEntity", name="LE", mainCountry="kp"))
f.good(ftm("sanction-1", "Sanction", entity="ftm-a",
           authority="Office of Foreign Assets Control", program="UKRAINE-EO13662",
           startDate="2022-02-24"))
f.good(ftm("p-good", "Person", name="Ivan Petrov", nationality="ru"))
for schema in ["Vessel", "Address", "Thing", "company", "Airplane",
               "Identification", "UnknownThing"]:
    f.bad(ftm("u-" + schema, schema), "schema",
          'unknown schema "%s"' % schema)
f.bad(j({"id": "noschema", "properties": {}}), "schema", "is required")
f.bad(j({"schema": "Company", "properties": {"name": ["X"]}}), "id",
      "is required")
f.bad(j({"id": "p", "schema": "Company", "properties": ["x"]}), "properties",
      "must be an object")
f.bad('{"id": "t", "schema": "Compa', "", "Closing quote expected")
f.bad('{"id": "t", "schema": "Company", "properties": {', "",
      "Unexpected end of string. Expected an object key or }.")
f.bad("[1, 2, 3]", "", "not a JSON object")
f.bad('{"id": "dup", "id": "dup2", "schema": "Company"}', "", "already set")
f.bad(ftm("c1", "Company", jurisdiction="ru"), "properties.name", "is required")
# No country, or none known: imported without one (with a warning).
f.good(ftm("c2", "Company", name="No country"))
f.good(ftm("c3", "Company", name="Soviet", jurisdiction="suhh"))
f.good(ftm("c4", "Organization", name="Kosovo", country="xk"))
# Issue #15: nested arrays where strings are expected, and a 60 KB line of
# them.
f.bad(ftm("c6", "Company", name="Nested", alias=[["x"]]), "properties.alias",
      "got a nested array")
f.bad('{"id": "deep", "schema": "Company", "properties": {"alias": ' +
      "[" * 30000 + "]" * 30000 + "}}", "", "nested deeper than 32 levels")
f.bad(ftm("c5", "Company", name="n" * 800, jurisdiction="ru"),
      "properties.name", "must be at most 512 bytes, got 800")
for pct, reason in [("NaN", 'not a percentage: "NaN"'),
                    ("nan%", 'not a percentage: "nan%"'),
                    ("-5", 'not a percentage: "-5"'),
                    ("-0.1%", 'not a percentage: "-0.1%"'),
                    ("150", 'must be in [0, 100], got "150"'),
                    ("lots", 'not a percentage: "lots"'),
                    ("", 'not a percentage: ""')]:
    f.bad(ftm("o-" + str(len(f.lines)), "Ownership", owner="ftm-a",
              asset="ftm-b", percentage=pct), "properties.percentage", reason)
f.bad(ftm("o-noowner", "Ownership", asset="ftm-b", percentage="5"),
      "properties.owner", "is required")
f.bad(ftm("o-noasset", "Ownership", owner="ftm-a", percentage="5"),
      "properties.asset", "is required")
f.bad(ftm("o-date", "Ownership", owner="ftm-a", asset="ftm-b", percentage="5",
          startDate="next year"), "properties.startDate",
      'not a date: "next year"')
f.bad(ftm("o-window", "Ownership", owner="ftm-a", asset="ftm-b",
          percentage="5", startDate="2024", endDate="2023"),
      "properties.endDate", "must be after effective_from")
f.bad(ftm("o-ghost", "Ownership", owner="ghost-owner", asset="ftm-b",
          percentage="5"), "upsert_edge.from_id",
      "does not exist")
f.bad(ftm("s-noentity", "Sanction", authority="OFAC"), "properties.entity",
      "is required")
# A relation to a record rejected earlier in the file is rejected with that
# record's reason (issue #14), never stored pointing at nothing.
f.bad(ftm("p-noname", "Person", nationality="ru"), "properties.name",
      "is required")
rejected_line = len(f.lines)
f.bad(ftm("o-of-rejected", "Ownership", owner="p-noname", asset="ftm-b",
          percentage="60"), "properties.owner",
      "its owner (line %d) was rejected" % rejected_line)
f.bad(ftm("s-of-rejected", "Sanction", entity="p-noname",
          authority="Office of Foreign Assets Control"), "properties.entity",
      "its target (line %d) was rejected" % rejected_line)
# No issuer: kept as "UNKNOWN", with a warning.
f.good(ftm("s-noissuer", "Sanction", entity="ftm-a"))
f.bad(ftm("s-date", "Sanction", entity="ftm-a", authority="EU",
          startDate="2022-02-30"), "properties.startDate",
      'not a date: "2022-02-30"')
for seed in range(4):
    garbage = bytes(((seed * 53 + i * 17) % 200) + 20 for i in range(60))
    f.bad(garbage.replace(b"\n", b"?"), "", "not valid UTF-8")
f.good(ftm("ftm-c", "Company", name="C", jurisdiction="de"))
f.write()

# --------------------------------------------------------------------------
# Consolidated Screening List: CSV.
f = Lines("bad_csl.csv")
f.lines.append(b"_id,source,entity_number,type,programs,name,title,addresses,"
               b"federal_register_notice,start_date,end_date,standard_order,"
               b"license_requirement,license_policy,call_sign,vessel_type,"
               b"gross_tonnage,gross_registered_tonnage,vessel_flag,"
               b"vessel_owner,remarks,source_list_url,alt_names,citizenships,"
               b"dates_of_birth,nationalities,places_of_birth,"
               b"source_information_url,ids")


def csl(source="Entity List (EL) - Bureau of Industry and Security",
        number="", rid="r", name="Listed Co", addresses="Road 1, Beijing, CN",
        start="2020-06-05", end="", nationalities="", alt=""):
    cells = [rid, '"%s"' % source, number, "Entity", "", '"%s"' % name, "",
             '"%s"' % addresses, "85 FR 34495", start, end, "", "", "", "",
             "", "", "", "", "", "", "http://bit.ly/el", '"%s"' % alt, "",
             "", nationalities, "", "https://www.bis.doc.gov/el", ""]
    return ",".join(cells)


for i in range(3):
    f.good(csl(rid="good-%d" % i), records=2)
rows = [
    (csl(source="Made Up List (MUL)"), "source", 'unknown list "Made Up List (MUL)"'),
    (csl(source="ZZZ"), "source", 'unknown list "ZZZ"'),
    (csl(source=""), "source", "is required"),
    (csl(name=""), "name", "is required"),
    (csl(name="N" * 900), "name", "must be at most 512 bytes, got 900"),
    (csl(start="06/05/2020"), "start_date", 'not a date: "06/05/2020"'),
    (csl(start="2020-02-31"), "start_date", 'not a date: "2020-02-31"'),
    (csl(end="never"), "end_date", 'not a date: "never"'),
    (csl(start="2021-01-01", end="2020-01-01"), "end_date",
     "must be after effective_from"),
    (csl(alt="x" * 600), "alt_names", "must be at most 512 bytes, got 600"),
    ("r,EL,1", "", "row has 3 fields, the header has 29"),
    ('r,"EL,1,Entity', "", "unterminated quoted field"),
]
for row, field, reason in rows:
    f.bad(row, field, reason)
    f.good(csl(rid="g-%d" % len(f.lines)), records=2)
f.good(csl(source="SDN", number="9001", nationalities="IR",
           addresses=""), records=2)
# The older layout's rows without any id get trade.gov's own; parties with
# no country, or a country written as a name, are listed.
f.good(csl(rid="", number="", name="No Id Co"), records=2)
f.good(csl(rid="no-country", addresses=""), records=2)
f.good(csl(rid="china", addresses="Road 1, Beijing, China"), records=2)
f.good(csl(rid="atlantis", addresses="Somewhere, Atlantis"), records=2)
f.write()

# --------------------------------------------------------------------------
# Consolidated Screening List: JSON (the API's shape).
f = Lines("bad_csl.json")
f.lines.append(b'{"total": 99, "sources": [{"source": "EL"}], "results": [')


def row(**kw):
    r = {"id": "j", "source": "Specially Designated Nationals (SDN) - "
         "Treasury Department", "entity_number": 1, "type": "Entity",
         "name": "Listed", "addresses": [{"country": "RU"}],
         "start_date": "2014-07-16", "end_date": None}
    r.update(kw)
    return j(r)


f.good(row(entity_number=1) + ",", records=2)
f.good(row(entity_number=None, id=None, name="No Id") + ",", records=2)
f.good(row(entity_number=2, addresses=[]) + ",", records=2)
f.good(row(entity_number=3, addresses=[{"country": "Russia"}]) + ",",
       records=2)
rows = [
    (row(source="NOPE") + ",", "source", 'unknown list "NOPE"'),
    (row(name=None) + ",", "name", "is required"),
    (row(alt_names=[["x"]]) + ",", "alt_names", "got a nested array"),
    (row(start_date="16 July 2014") + ",", "start_date",
     'not a date: "16 July 2014"'),
    (row(end_date="2000-01-01") + ",", "end_date",
     "must be after effective_from"),
    (row(name="n" * 1000) + ",", "name", "must be at most 512 bytes, got 1000"),
    ("42,", "", "not a JSON object"),
    ('"a string",', "", "not a JSON object"),
    ('{"source": "SDN", "name": tru},', "", "Unexpected token."),
    (",", "", "unexpected ',' (an empty record)"),
]
for r, field, reason in rows:
    f.bad(r, field, reason)
    f.good(row(entity_number=len(f.lines)) + ",", records=2)
f.good(row(entity_number=5000), records=2)  # No comma after it...
# ... reported at the next record, which is itself read.
f.bad(row(entity_number=5001) + ",", "", "expected ',' or ']' after a record")
good[f.name] += 2
f.good(row(entity_number=5003) + ",", records=2)
# The document is cut off inside the last record.
f.bad('{"source": "SDN", "entity_number": 5002, "name": "Cut',
      "", "truncated record")
f.write()

with open(os.path.join(HERE, "EXPECTED.tsv"), "w") as out:
    out.write("# file\tline\tfield\treason (substring); generated by "
              "generate.py\n")
    for e in expected:
        out.write("\t".join(str(x) for x in e) + "\n")
with open(os.path.join(HERE, "GOOD.tsv"), "w") as out:
    out.write("# file\trecords accepted; generated by generate.py\n")
    for name, count in sorted(good.items()):
        out.write("%s\t%d\n" % (name, count))
print("%d malformed records, %d good ones" % (len(expected),
                                              sum(good.values())))
