#!/usr/bin/env python3
"""Builds resolve/testdata/eval_index.tsv and eval_pairs.tsv from public lists.

    build_eval.py --sdn2019 sdn.csv --alt2019 alt.csv --add2019 add.csv \
        --sdn2024 sdn_2024.csv --csl csl.csv --un UN_consolidated.xml \
        --cross_script cross_script_pairs.csv --out resolve/testdata

The inputs and where they come from are in resolve/testdata/README.md. The
output is deterministic (seeded sampling, sorted rows). Every row says where
it comes from, and whether its pairing was constructed, in its provenance
column.
"""

import argparse
import csv
import os
import random
import re
import unicodedata
import xml.etree.ElementTree as ET

SEED = 16  # issue 16; --seed draws another set from the same sources

# Country names as OFAC and the UN write them -> ISO 3166-1 alpha-2.
COUNTRIES = {
    "Afghanistan": "AF", "Albania": "AL", "Algeria": "DZ", "Angola": "AO",
    "Argentina": "AR", "Armenia": "AM", "Aruba": "AW", "Australia": "AU",
    "Austria": "AT", "Azerbaijan": "AZ", "Bahamas, The": "BS",
    "Bahrain": "BH", "Bangladesh": "BD", "Barbados": "BB", "Belarus": "BY",
    "Belgium": "BE", "Belize": "BZ", "Benin": "BJ", "Bolivia": "BO",
    "Bosnia and Herzegovina": "BA", "Brazil": "BR", "Bulgaria": "BG",
    "Burkina Faso": "BF", "Burma": "MM", "Myanmar": "MM", "Burundi": "BI",
    "Cambodia": "KH", "Canada": "CA", "Cayman Islands": "KY",
    "Central African Republic": "CF", "Chile": "CL", "China": "CN",
    "Colombia": "CO", "Comoros": "KM",
    "Congo, Democratic Republic of the": "CD",
    "Congo, Republic of the": "CG", "Costa Rica": "CR",
    "Cote d Ivoire": "CI", "Croatia": "HR", "Cuba": "CU", "Cyprus": "CY",
    "Czech Republic": "CZ", "Denmark": "DK", "Dominica": "DM",
    "Dominican Republic": "DO", "Ecuador": "EC", "Egypt": "EG",
    "El Salvador": "SV", "Equatorial Guinea": "GQ", "Eritrea": "ER",
    "Estonia": "EE", "Ethiopia": "ET", "Finland": "FI", "France": "FR",
    "Georgia": "GE", "Germany": "DE", "Ghana": "GH", "Gibraltar": "GI",
    "Greece": "GR", "Guatemala": "GT", "Guyana": "GY", "Haiti": "HT",
    "Honduras": "HN", "Hong Kong": "HK", "India": "IN", "Indonesia": "ID",
    "Iran": "IR", "Iran (Islamic Republic of)": "IR", "Iraq": "IQ",
    "Ireland": "IE", "Israel": "IL", "Italy": "IT", "Jamaica": "JM",
    "Japan": "JP", "Jersey": "JE", "Jordan": "JO", "Kazakhstan": "KZ",
    "Kenya": "KE", "Korea, North": "KP",
    "Democratic People's Republic of Korea": "KP", "Korea, South": "KR",
    "Kosovo": "XK", "Kuwait": "KW", "Kyrgyzstan": "KG", "Laos": "LA",
    "Latvia": "LV", "Lebanon": "LB", "Liberia": "LR", "Libya": "LY",
    "Liechtenstein": "LI", "Luxembourg": "LU", "Malaysia": "MY",
    "Maldives": "MV", "Mali": "ML", "Malta": "MT", "Man, Isle of": "IM",
    "Marshall Islands": "MH", "Mauritania": "MR", "Mexico": "MX",
    "Mongolia": "MN", "Montenegro": "ME", "Morocco": "MA",
    "Mozambique": "MZ", "Namibia": "NA", "Netherlands": "NL",
    "New Zealand": "NZ", "Nicaragua": "NI", "Niger": "NE", "Nigeria": "NG",
    "Norway": "NO", "Oman": "OM", "Pakistan": "PK", "Panama": "PA",
    "Paraguay": "PY", "Peru": "PE", "Philippines": "PH", "Poland": "PL",
    "Qatar": "QA", "Romania": "RO", "Russia": "RU",
    "Russian Federation": "RU", "Rwanda": "RW",
    "Saint Kitts and Nevis": "KN",
    "Saint Vincent and the Grenadines": "VC", "Samoa": "WS",
    "Saudi Arabia": "SA", "Senegal": "SN", "Serbia": "RS",
    "Seychelles": "SC", "Sierra Leone": "SL", "Singapore": "SG",
    "Slovakia": "SK", "Slovenia": "SI", "Somalia": "SO",
    "South Africa": "ZA", "South Sudan": "SS", "Spain": "ES",
    "Sri Lanka": "LK", "Sudan": "SD", "Sweden": "SE", "Switzerland": "CH",
    "Syria": "SY", "Syrian Arab Republic": "SY", "Taiwan": "TW",
    "Tajikistan": "TJ", "Tanzania": "TZ", "Thailand": "TH",
    "The Gambia": "GM", "Trinidad and Tobago": "TT", "Tunisia": "TN",
    "Turkey": "TR", "Turkmenistan": "TM", "Uganda": "UG", "Ukraine": "UA",
    "United Arab Emirates": "AE", "United Kingdom": "GB",
    "United States": "US", "Uruguay": "UY", "Uzbekistan": "UZ",
    "Vanuatu": "VU", "Venezuela": "VE", "Vietnam": "VN",
    "Virgin Islands, British": "VG", "Yemen": "YE", "Zambia": "ZM",
    "Zimbabwe": "ZW",
}

# Words that do not make two names share a word (selection rule of the
# alias_variant category; see README.md).
STOP = {
    "THE", "AND", "OF", "FOR", "DE", "DEL", "LA", "LE", "AL", "EL", "CO",
    "COMPANY", "LTD", "LIMITED", "INC", "CORP", "CORPORATION", "LLC", "SA",
    "GMBH", "AG", "JSC", "PJSC", "OJSC", "CJSC", "OOO", "OAO", "ZAO", "PAO",
    "AO", "LLP", "PLC", "SRL", "SAS", "BV", "NV", "FZE", "FZCO", "FZC",
    "TRADING", "GROUP", "INTERNATIONAL", "INDUSTRIAL", "INDUSTRIES",
    "ENTERPRISE", "ENTERPRISES", "HOLDING", "HOLDINGS", "SERVICES",
    "SHIPPING", "BANK", "IMPORT", "EXPORT", "GENERAL", "NATIONAL",
}

REMARK_AKA = re.compile(r"a\.k\.a\. '([^']+)'")


def words(name):
    return {w for w in re.split(r"[^A-Z0-9]+", name.upper())
            if len(w) >= 3 and w not in STOP}


def initials(name):
    return "".join(w[0] for w in re.split(r"[^A-Z0-9]+", name.upper())
                   if w and w not in {"THE", "AND", "OF"})


def alias_class(alias, name):
    """The selection rule (README.md): "variant" when the alias and the name
    share more than half of the words of the longer of the two (3+ letters,
    not stop words), or the alias is the name's initials; "partial" when
    they share a word but no more than half; "other" when none."""
    a, n = words(alias), words(name)
    shared = len(a & n)
    if shared and shared * 2 > max(len(a), len(n)):
        return "variant"
    letters = re.sub(r"[^A-Z]", "", alias.upper())
    if len(letters) >= 2 and letters == initials(name):
        return "variant"
    return "partial" if shared else "other"


def kind_of(sdn_type):
    t = sdn_type.strip()
    if t == "individual":
        return "person"
    if t in ("vessel", "aircraft"):
        return ""
    return "company"


def clean(s):
    return re.sub(r"\s+", " ", s.replace("\t", " ")).strip()


def read_csv(path, encoding="latin-1"):
    with open(path, encoding=encoding, newline="") as f:
        return [r for r in csv.reader(f) if r]


def remark_ids(remarks):
    """Identifiers in an SDN remarks field, with their scheme."""
    ids = {}
    m = re.search(r"Legal Entity Number ([A-Z0-9]{20})", remarks)
    if m:
        ids["lei"] = m.group(1)
    m = re.search(r"(?:Vessel Registration Identification )IMO (\d{7})",
                  remarks)
    if m:
        ids["imo"] = m.group(1)
    m = re.search(r"Registration Number ([A-Z0-9-]{5,}) \(([A-Za-z ,.]+)\)",
                  remarks)
    if m and m.group(2) in COUNTRIES:
        ids["registration"] = COUNTRIES[m.group(2)] + ":" + m.group(1)
    m = re.search(r"Tax ID No\. (\d{10}) \(Russia\)", remarks)
    if m:
        ids["inn"] = m.group(1)
    return ids


def remark_country(remarks):
    for m in re.finditer(r"\(([A-Z][A-Za-z ,.]+)\)", remarks):
        if m.group(1) in COUNTRIES:
            return COUNTRIES[m.group(1)]
    m = re.search(r"(?:nationality|citizen) ([A-Z][A-Za-z ,]+?)[;.]",
                  remarks)
    if m and m.group(1) in COUNTRIES:
        return COUNTRIES[m.group(1)]
    return ""


def ids_text(ids):
    return "|".join(f"{k}={v}" for k, v in sorted(ids.items()))


def break_check_digit(value):
    """The value with its last digit changed (constructed typo)."""
    last = value[-1]
    return value[:-1] + str((int(last) + 1) % 10)


def main():
    ap = argparse.ArgumentParser()
    for a in ("sdn2019", "alt2019", "add2019", "sdn2024", "csl", "un",
              "cross_script", "out"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    # Countries of 2019 SDN entries from their first address.
    country_2019 = {}
    for r in read_csv(args.add2019):
        c = r[4].strip()
        if r[0] not in country_2019 and c in COUNTRIES:
            country_2019[r[0]] = COUNTRIES[c]

    sdn = {}
    for r in read_csv(args.sdn2024):
        if len(r) < 12 or not r[0].isdigit():
            continue
        remarks = "" if r[11].strip() == "-0-" else r[11]
        uid = r[0]
        sdn[uid] = {
            "uid": uid,
            "name": clean(r[1]),
            "kind": kind_of(r[2]),
            "country": country_2019.get(uid) or remark_country(remarks),
            "ids": remark_ids(remarks),
            "akas": [clean(a) for a in REMARK_AKA.findall(remarks)],
        }
    src_2024 = "OFAC SDN list (sdn.csv, 2024-05-03 snapshot)"

    index = []  # (group, id, kind, country, name, identifiers, provenance)
    pairs = []  # (query_id, group, category, kind, country, name, aliases,
    #              identifiers, expected, provenance)

    # Shared names: distinct SDN entries whose names are equal once
    # punctuation and case are gone. One of each pair is left out of the
    # index and becomes a query that must find no party.
    by_key = {}
    for e in sdn.values():
        key = re.sub(r"[^A-Z0-9]", "", e["name"].upper())
        by_key.setdefault(key, []).append(e)
    shared = [v for v in by_key.values() if len(v) >= 2]
    rnd.shuffle(shared)
    left_out = set()
    for group in shared[:60]:
        q = sorted(group, key=lambda e: int(e["uid"]))[-1]
        left_out.add(q["uid"])
        others = ",".join("sdn/" + e["uid"] for e in group if e is not q)
        pairs.append((f"shared-{q['uid']}", "sdn", "shared_name", q["kind"],
                      q["country"], q["name"], "", "", "-",
                      f"{src_2024} entry {q['uid']}, left out of the index; "
                      f"a different entry with the same name stays in it "
                      f"({others}); constructed negative"))

    for e in sdn.values():
        if e["uid"] in left_out:
            continue
        ids = dict(e["ids"])
        ids["opensanctions"] = "ofac-" + e["uid"]
        index.append(("sdn", "sdn/" + e["uid"], e["kind"], e["country"],
                      e["name"], ids_text(ids),
                      f"SDN-2024 {e['uid']}"))

    live = [e for e in sdn.values() if e["uid"] not in left_out]

    # Aliases: a.k.a. names of the remarks, queried alone.
    classes = {"variant": [], "partial": [], "other": []}
    for e in live:
        for a in e["akas"]:
            if a.upper() == e["name"].upper():
                continue
            classes[alias_class(a, e["name"])].append((e, a))
    for v in classes.values():
        rnd.shuffle(v)
    variants, others = classes["variant"], classes["other"]
    for i, (e, a) in enumerate(classes["partial"][:40]):
        pairs.append((f"akapartial-{i:03d}", "sdn", "alias_partial",
                      e["kind"], e["country"], a, "", "", "sdn/" + e["uid"],
                      f"{src_2024} entry {e['uid']}: a.k.a. '{a}' of "
                      f"'{e['name']}' (shares at most half of the words: "
                      f"reported, not in the targets)"))
    for i, (e, a) in enumerate(variants[:150]):
        pairs.append((f"aka-{i:03d}", "sdn", "alias_variant", e["kind"],
                      e["country"], a, "", "", "sdn/" + e["uid"],
                      f"{src_2024} entry {e['uid']}: a.k.a. '{a}' of "
                      f"'{e['name']}'"))
    for i, (e, a) in enumerate(others[:40]):
        pairs.append((f"akaother-{i:03d}", "sdn", "alias_other", e["kind"],
                      e["country"], a, "", "", "sdn/" + e["uid"],
                      f"{src_2024} entry {e['uid']}: a.k.a. '{a}' of "
                      f"'{e['name']}' (shares no word: reported, not in the "
                      f"targets)"))

    # Identifiers from the remarks, each with an alias (or the name) as the
    # query's name; and the same with one digit wrong.
    for scheme, n in (("lei", 80), ("imo", 60), ("registration", 40),
                      ("inn", 30)):
        having = [e for e in live if scheme in e["ids"]]
        rnd.shuffle(having)
        for e in having[:n]:
            name = e["akas"][0] if e["akas"] else e["name"].title()
            value = e["ids"][scheme]
            pairs.append((f"{scheme}-{e['uid']}", "sdn", "identifier",
                          e["kind"], e["country"], name, "",
                          f"{scheme}={value}", "sdn/" + e["uid"],
                          f"{src_2024} entry {e['uid']}: its {scheme} with "
                          f"{'its a.k.a.' if e['akas'] else 'its name in title case'}"
                          f" (pairing constructed)"))
        for e in having[n:n + 10]:
            value = e["ids"][scheme]
            if scheme == "registration" or not value[-1].isdigit():
                continue
            bad = break_check_digit(value)
            pairs.append((f"{scheme}typo-{e['uid']}", "sdn",
                          "identifier_typo", e["kind"], e["country"],
                          e["name"], "", f"{scheme}={bad}",
                          "sdn/" + e["uid"],
                          f"{src_2024} entry {e['uid']}: its name with its "
                          f"{scheme} {value} mistyped as {bad} (constructed: "
                          f"the check digit fails, the name must carry it)"))

    # The CSL's rows for OFAC's lists: their entity number is OFAC's uid.
    with open(args.csl, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if not r["entity_number"]:
                continue
            uid = r["entity_number"]
            country = ""
            for part in reversed(r["addresses"].split(",")):
                part = part.strip()
                if len(part) == 2 and part.isalpha() and part.isupper():
                    country = part
                    break
            aliases = "|".join(clean(a) for a in r["alt_names"].split(";")
                               if a.strip())
            expected = "sdn/" + uid if uid in sdn and uid not in left_out \
                else "-"
            pairs.append((f"csl-{uid}", "sdn", "csl_identifier",
                          kind_of(r["type"].lower() if r["type"] != "Entity"
                                  else ""),
                          country, clean(r["name"]), aliases,
                          f"csl_entity_number={uid}", expected,
                          f"Consolidated Screening List row ({r['source'][:40]})"
                          f", entity_number {uid}" +
                          ("" if expected != "-" else
                           "; not on the 2024 SDN snapshot: no match")))

    # UN list: names in their original script against the Latin names.
    root = ET.parse(args.un).getroot()
    un_queries = {"CYRILLIC": [], "ARABIC": []}
    for section, kind in (("INDIVIDUALS", "person"), ("ENTITIES", "company")):
        for e in root.find(section):
            ref = (e.findtext("REFERENCE_NUMBER") or "").strip()
            name = clean(" ".join(filter(None, [
                (e.findtext(t) or "").strip()
                for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME",
                          "FOURTH_NAME")])))
            if not ref or not name:
                continue
            country = ""
            nat = e.find("NATIONALITY")
            if nat is not None:
                country = COUNTRIES.get((nat.findtext("VALUE") or "").strip(),
                                        "")
            index.append(("un", "un/" + ref, kind, country, name, "",
                          f"UN {ref}"))
            orig = clean(e.findtext("NAME_ORIGINAL_SCRIPT") or "")
            script = ""
            for ch in orig:
                if ord(ch) > 0x7F and ch.isalpha():
                    script = unicodedata.name(ch, "?").split()[0]
                    break
            if script in un_queries:
                un_queries[script].append((ref, kind, country, orig, name))
    for script, n in (("CYRILLIC", 20), ("ARABIC", 40)):
        qs = un_queries[script]
        rnd.shuffle(qs)
        for ref, kind, country, orig, name in qs[:n]:
            pairs.append((f"un-{ref}", "un", f"script_{script.lower()}", kind,
                          country, orig, "", "", "un/" + ref,
                          f"UN Security Council consolidated list {ref}: "
                          f"NAME_ORIGINAL_SCRIPT of '{name}'"))

    # Cross-script person names (moov-io/watchman's test pairs).
    with open(args.cross_script, encoding="utf-8") as f:
        rows = [l.rstrip("\n").split(",") for l in f
                if l.strip() and not l.startswith("#")]
    seen = {}
    for i, (native, latin, _, what) in enumerate(rows):
        pid = seen.setdefault(latin, f"xs/{len(seen):02d}")
        if len([x for x in index if x[1] == pid]) == 0:
            index.append(("xs", pid, "person", "", latin, "",
                          "watchman cross_script_pairs.csv"))
        pairs.append((f"xs-{i:02d}", "xs", "script_other", "person", "",
                      native, "", "", pid,
                      f"moov-io/watchman cross_script_pairs.csv: {what}"))

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eval_index.tsv"), "w",
              encoding="utf-8") as f:
        f.write("# group\tid\tkind\tcountry\tname\tidentifiers\tprovenance\n")
        for row in sorted(index):
            f.write("\t".join(row) + "\n")
    with open(os.path.join(args.out, "eval_pairs.tsv"), "w",
              encoding="utf-8") as f:
        f.write("# query_id\tgroup\tcategory\tkind\tcountry\tname\taliases"
                "\tidentifiers\texpected\tprovenance\n")
        for row in sorted(pairs, key=lambda p: (p[2], p[0])):
            f.write("\t".join(row) + "\n")
    print(f"{len(index)} index rows, {len(pairs)} pairs")


if __name__ == "__main__":
    main()
