#!/usr/bin/env python3
"""Builds georisk's demo dataset (data/demo/*.jsonl) deterministically.

    python3 data/demo/build_demo.py            # rewrite the .jsonl files here
    python3 data/demo/build_demo.py --out DIR  # write them to DIR instead
    python3 data/demo/build_demo.py --check    # exit 1 if the files here differ
    python3 data/demo/build_demo.py --stats    # print counts for README.md

Output: georisk JSON Lines (one georisk.v1.Mutation per line, protobuf's JSON
mapping, camelCase fields, enums by name, RFC 3339 timestamps), in three files
meant to be imported in this order: entities.jsonl, edges.jsonl,
signals.jsonl. Every line carries an "idempotencyKey" derived from the
record's content, so re-importing the same file is a no-op and a changed record
gets a new key.

Facts come only from docs/sources.md, the project's sheet of sourced public facts
(copied into the citations below, each tagged "[docs/sources.md: <section>]"). Everything else is written
"assumption: ..." in the record's `source`. The checks at the end of this file
(and tests/demo_data_test.cc) refuse a dataset that breaks the record rules or
the share conventions in README.md.

Standard library only; runs with /usr/bin/python3 (3.8+).
"""

import argparse
import hashlib
import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ("entities.jsonl", "edges.jsonl", "signals.jsonl")

# --------------------------------------------------------------------------
# Citations from docs/sources.md. A record's source is one of these, optionally
# followed by "; assumption: ...", or an "assumption: ..." alone.
# --------------------------------------------------------------------------
F_EC = "[docs/sources.md: Export controls]"
F_TARIFFS = "[docs/sources.md: Tariffs]"
F_TENSION = "[docs/sources.md: Cross-strait and regional tension]"
F_NEWS = "[docs/sources.md: Companies, facilities and deals in the news]"

C_VEU = ("BIS final rule 'Revocation of Validated End-User Authorizations in "
         "the PRC', 90 FR 42321–42322, FR Doc 2025-16735, published 2 Sep "
         "2025, effective 31 Dec 2025: removes Intel Semiconductor (Dalian) "
         "Ltd, Samsung China Semiconductor Co. Ltd and SK hynix Semiconductor "
         "(China) Ltd from Supplement No. 7 to Part 748 " + F_EC)
C_VEU_TSMC = ("BIS revoked TSMC Nanjing's VEU authorization effective 31 Dec "
              "2025 by direct notice (not by the Federal Register rule) " + F_EC)
C_LICENCES = ("Samsung and SK hynix reported (~30 Dec 2025) to have received "
              "annual licences for 2026: maintenance, not expansion or "
              "upgrades " + F_EC)
_TOUCHED = "VEU revocation, facilities touched: "
C_XIAN = (_TOUCHED + "Samsung Electronics, Xi'an fab, CN-SN (Shaanxi), NAND "
          "flash, ~35–40% of Samsung NAND " + F_EC)
C_SUZHOU = (_TOUCHED + "Samsung Electronics, Suzhou, CN-JS (Jiangsu), "
            "packaging and test " + F_EC)
C_WUXI = (_TOUCHED + "SK hynix, Wuxi fab, CN-JS (Jiangsu), DRAM, ~40% of SK "
          "hynix DRAM " + F_EC)
C_CHONGQING = (_TOUCHED + "SK hynix, Chongqing, CN-CQ, packaging and test " +
               F_EC)
C_DALIAN = (_TOUCHED + "Solidigm (SK hynix subsidiary), Dalian fab (ex-Intel, "
            "sold 2020), CN-LN (Liaoning), 3D NAND, ~20% of SK hynix NAND " +
            F_EC)
C_MEMORY = ("TrendForce, mid-2025: Samsung and SK hynix held about 70% of "
            "global DRAM and 50% of NAND " + F_EC)
C_USKR = ("US–Korea, 30–31 Jul 2025: a 15% tariff on Korean imports instead "
          "of the 25% threatened for 1 Aug " + F_TARIFFS)
C_USKR_AUTOS = ("US–Korea terms of 29 Oct 2025: autos and parts 25% → 15% "
                "(retroactive to 1 Nov once final) " + F_TARIFFS)
C_USKR_SEMIS = ("US–Korea terms of 29 Oct 2025: semiconductors 'no less "
                "favorable than' Taiwan's " + F_TARIFFS)
C_301 = ("Section 301 on Chinese semiconductors: 50% since 1 Jan 2025 "
         "(HS 8541, 8542) " + F_TARIFFS)
C_301_LEGACY = ("Section 301 determination of 23 Dec 2025 on legacy chips: "
                "an additional tariff at 0%, rising on 23 Jun 2027, on 18 "
                "subheadings (e.g. 2804.61, 3818.00, 8541.10, 8541.21, "
                "8541.29, 8541.30, 8541.49, 8541.51, 8541.59) " + F_TARIFFS)
C_IEEPA = ("IEEPA 'fentanyl' tariff on China cut from 20% to 10% on 10 Nov "
           "2025; reciprocal 10% kept to 10 Nov 2026 " + F_TARIFFS)
C_GPR = ("Caldara & Iacoviello Geopolitical Risk index: share of newspaper "
         "articles about adverse geopolitical events; a tension level "
         "normalised to 0..1 as a percentile of its own history " + F_TENSION)
C_FOXCONN_OPENAI = ("Foxconn (Hon Hai, TW) – OpenAI (US), ~20–21 Nov 2025: "
                    "co-design of AI data-centre racks (racks, cabling, "
                    "networking, power, cooling) built at Foxconn's US sites "
                    "in Wisconsin, Ohio and Texas; production centred on the "
                    "Ohio plant (former EV plant); option to buy, no purchase "
                    "commitment; exact cities unsettled [U] " + F_NEWS)
C_NVIDIA_KR = ("Nvidia – South Korea, 31 Oct 2025 (APEC, Gyeongju): up to "
               "260,000 Blackwell GPUs — Korean government 50,000, Samsung "
               "Electronics 50,000, SK Group 50,000, Hyundai Motor Group "
               "50,000, Naver Cloud 60,000 " + F_NEWS)
C_TSMC = ("TSMC fabs: Taiwan — Hsinchu (HQ), Taichung, Tainan, Kaohsiung; "
          "China — Nanjing (12-inch), TSMC China (8-inch); USA — Washington "
          "(8-inch), Arizona (first fab 4nm from early 2025); Japan — Kumamoto "
          "(JASM); Germany — Dresden (ESMC) " + F_NEWS)
C_YOTTA = ("Yotta Data Services (IN): $2B Nvidia Blackwell supercluster in "
           "India " + F_NEWS)
C_AMAZON = "Amazon: ~$40B AI data-centre expansion in Spain " + F_NEWS
C_FURIOSA = "FuriosaAI (KR): RNGD inference chips " + F_NEWS
C_NV_OPTICS = "Nvidia invested in Lumentum and Coherent (optics) " + F_NEWS
C_HYUNDAI = ("Hyundai Motor Group: EV battery plant in Georgia (US), site of "
             "a Sept 2025 immigration raid detaining 300+ Korean nationals " +
             F_NEWS)


def A(text):
    """An assumption, alone."""
    return "assumption: " + text


def CA(citation, text):
    """A citation from docs/sources.md plus what was assumed on top of it."""
    return citation + "; assumption: " + text


LOC = "coordinates are approximate, city level"
CHAIN = ("not in docs/sources.md; included to complete the demo AI-hardware chain; "
         "country is the headquarters")
SITE = "site, city and coordinates are approximate, from general knowledge"

# --------------------------------------------------------------------------
# Companies: slug, name, country, aliases, product codes, source.
# --------------------------------------------------------------------------
COMPANIES = [
    ("foxconn", "Hon Hai Precision Industry Co., Ltd.", "TW",
     ["Foxconn", "Hon Hai"], ["8471", "8473", "8517"], C_FOXCONN_OPENAI),
    ("foxconn-industrial-internet", "Foxconn Industrial Internet Co., Ltd.",
     "CN", ["FII"], ["8471"],
     A("Foxconn subsidiary for cloud servers; " + CHAIN)),
    ("openai", "OpenAI", "US", [], [], C_FOXCONN_OPENAI),
    ("nvidia", "NVIDIA Corporation", "US", ["Nvidia"], ["8542"],
     C_NVIDIA_KR),
    ("tsmc", "Taiwan Semiconductor Manufacturing Company Limited", "TW",
     ["TSMC"], ["8542"], C_TSMC),
    ("samsung-electronics", "Samsung Electronics Co., Ltd.", "KR",
     ["Samsung"], ["8542"], C_MEMORY),
    ("sk-hynix", "SK hynix Inc.", "KR", ["SK Hynix"], ["8542"], C_MEMORY),
    ("solidigm", "Solidigm", "US", [], ["8542", "8523"],
     CA(C_DALIAN, "headquarters country (US) from general knowledge")),
    ("sk-square", "SK Square Co., Ltd.", "KR", [], [],
     A("SK Group's intermediate holding company for SK hynix; " + CHAIN)),
    ("sk-group", "SK Group (SK Inc.)", "KR", ["SK Inc."], [],
     CA(C_NVIDIA_KR, "modelled as its holding company, SK Inc.")),
    ("intel", "Intel Corporation", "US", [], ["8542"],
     CA(C_VEU, "Intel sold the Dalian fab (2020) and appears here as a CPU "
        "supplier; " + CHAIN)),
    ("micron", "Micron Technology, Inc.", "US", [], ["8542"], A(CHAIN)),
    ("hyundai-motor-group", "Hyundai Motor Group", "KR",
     ["Hyundai Motor Company"], ["8703", "8708"], C_HYUNDAI),
    ("hyundai-motor-america", "Hyundai Motor America", "US", [], ["8703"],
     A("Hyundai's US importer and distributor; " + CHAIN)),
    ("lg-energy-solution", "LG Energy Solution, Ltd.", "KR", ["LGES"],
     ["8507"],
     A("battery maker and Hyundai's partner in the Georgia battery plant; " +
       CHAIN)),
    ("naver-cloud", "NAVER Cloud Corp.", "KR", ["Naver Cloud"], [],
     C_NVIDIA_KR),
    ("korea-government", "Government of the Republic of Korea", "KR",
     ["Korean government"], [], C_NVIDIA_KR),
    ("yotta-data-services", "Yotta Data Services Private Limited", "IN",
     ["Yotta"], [], C_YOTTA),
    ("amazon", "Amazon.com, Inc.", "US", ["Amazon Web Services", "AWS"], [],
     C_AMAZON),
    ("lumentum", "Lumentum Holdings Inc.", "US", [], ["8517", "8541"],
     C_NV_OPTICS),
    ("coherent", "Coherent Corp.", "US", [], ["8517", "8541"], C_NV_OPTICS),
    ("furiosaai", "FuriosaAI, Inc.", "KR", ["Furiosa"], ["8542"], C_FURIOSA),
    ("microsoft", "Microsoft Corporation", "US", [], [], A(CHAIN)),
    ("google", "Google LLC", "US", ["Alphabet"], [], A(CHAIN)),
    ("meta", "Meta Platforms, Inc.", "US", ["Meta"], [], A(CHAIN)),
    ("oracle", "Oracle Corporation", "US", [], [],
     A("operator of OpenAI compute capacity; " + CHAIN)),
    ("dell", "Dell Technologies Inc.", "US", ["Dell"], ["8471"], A(CHAIN)),
    ("supermicro", "Super Micro Computer, Inc.", "US", ["Supermicro"],
     ["8471"], A(CHAIN)),
    ("quanta", "Quanta Computer Inc.", "TW", ["QCT"], ["8471"], A(CHAIN)),
    ("wistron", "Wistron Corporation", "TW", [], ["8471", "8473"], A(CHAIN)),
    ("ase", "ASE Technology Holding Co., Ltd.", "TW", ["ASE"], ["8542"],
     A(CHAIN)),
    ("amkor", "Amkor Technology, Inc.", "US", [], ["8542"], A(CHAIN)),
    ("asml", "ASML Holding N.V.", "NL", [], ["8486"], A(CHAIN)),
    ("tokyo-electron", "Tokyo Electron Limited", "JP", ["TEL"], ["8486"],
     A(CHAIN)),
    ("applied-materials", "Applied Materials, Inc.", "US", [], ["8486"],
     A(CHAIN)),
    ("lam-research", "Lam Research Corporation", "US", [], ["8486"],
     A(CHAIN)),
    ("shin-etsu", "Shin-Etsu Chemical Co., Ltd.", "JP", [], ["3818"],
     A(CHAIN)),
    ("sumco", "SUMCO Corporation", "JP", [], ["3818"], A(CHAIN)),
    ("ibiden", "IBIDEN Co., Ltd.", "JP", [], ["8534"], A(CHAIN)),
    ("unimicron", "Unimicron Technology Corp.", "TW", [], ["8534"],
     A(CHAIN)),
    ("murata", "Murata Manufacturing Co., Ltd.", "JP", [], ["8532"],
     A(CHAIN)),
    ("smic", "Semiconductor Manufacturing International Corporation", "CN",
     ["SMIC"], ["8542"],
     A("included as an illustrative Entity List target (see "
       "signal/bis-el-smic-illustrative); " + CHAIN)),
    ("ymtc", "Yangtze Memory Technologies Co., Ltd.", "CN", ["YMTC"],
     ["8542"],
     A("included as an illustrative Entity List target (see "
       "signal/bis-el-ymtc-illustrative); " + CHAIN)),
    ("hypothetical-cn-chip-jv",
     "Hypothetical CN chip JV (illustrative; not a real company)", "CN", [],
     ["8542"],
     A("fictional company owned 30% by SMIC and 25% by YMTC, so that listed "
       "parties own 55% of it in aggregate and the 50% ownership rules "
       "(OFAC's; BIS's Affiliates Rule while active) reach it")),
    ("hypothetical-hk-components-trader",
     "Hypothetical HK components trader (illustrative; not a real company)",
     "HK", [], ["8542"],
     A("fictional company owned by a fictional listed person "
       "(person/hypothetical-listed-investor), 45% until 30 Jun 2025 and 51% "
       "since 1 Jul 2025, so that a person owner and a dated ownership "
       "change reach the 50% rules; it supplies nothing in the demo chain, "
       "so no other score moves")),
]

# Identifiers a company carries (Entity.identifiers), by slug. The demo's
# lists (csl.csv, opensanctions.ftm.json) name parties under their own ids;
# resolution links a list's party to one of these companies when an
# identifier is equal (README.md, "Lists under their own ids").
IDENTIFIERS = {
    # Illustrative LEI (valid ISO 7064 check digits, not YMTC's real LEI,
    # which docs/sources.md does not give); opensanctions.ftm.json carries the same.
    "ymtc": {"lei": "5493000DEMOYMTC00179"},
}

# --------------------------------------------------------------------------
# Persons: slug, name, country ("" when unknown), source. A person can be
# listed and own shares; it operates and supplies nothing.
# --------------------------------------------------------------------------
PERSONS = [
    ("hypothetical-listed-investor",
     "Hypothetical Investor", "",
     A("fictional individual (not a real person), listed by OFAC in signal/"
       "ofac-sdn-hypothetical-investor; no nationality given, as for many "
       "listed parties")),
]

# --------------------------------------------------------------------------
# Facilities: slug, name, country, region, (lat, lon) or None, type, product
# codes, aliases, source.
# --------------------------------------------------------------------------
FAB, PT, ASSEMBLY, DC, PLANT = ("FAB", "PACKAGING_AND_TEST", "ASSEMBLY",
                                "DATA_CENTER", "PLANT")

FACILITIES = [
    # TSMC (docs/sources.md lists the ten fab locations; the CoWoS back-end site is
    # an assumption).
    ("tsmc-hsinchu", "TSMC Hsinchu fabs (HQ)", "TW", "TW-HSZ",
     (24.78, 121.01), FAB, ["8542"], [], CA(C_TSMC, LOC)),
    ("tsmc-taichung", "TSMC Taichung fabs", "TW", "TW-TXG", (24.21, 120.62),
     FAB, ["8542"], [], CA(C_TSMC, LOC)),
    ("tsmc-tainan", "TSMC Tainan fabs", "TW", "TW-TNN", (23.11, 120.27), FAB,
     ["8542"], [], CA(C_TSMC, LOC)),
    ("tsmc-kaohsiung", "TSMC Kaohsiung fab", "TW", "TW-KHH", (22.73, 120.33),
     FAB, ["8542"], [], CA(C_TSMC, LOC)),
    ("tsmc-advanced-backend", "TSMC advanced packaging (CoWoS), Zhunan",
     "TW", "TW-MIA", (24.68, 120.87), PT, ["8542"], [],
     A("TSMC's advanced packaging is modelled as one Taiwanese back-end "
       "site through which Nvidia's GPUs pass; " + SITE)),
    ("tsmc-nanjing", "TSMC Nanjing fab (12-inch)", "CN", "CN-JS",
     (32.06, 118.79), FAB, ["8542"], ["TSMC (Nanjing) Company Limited"],
     C_TSMC + "; " + CA(C_VEU_TSMC, LOC + "; legal-entity alias from general "
                        "knowledge")),
    ("tsmc-china-shanghai", "TSMC China fab (8-inch), Shanghai", "CN",
     "CN-SH", (31.03, 121.23), FAB, ["8542"], ["TSMC China Company Limited"],
     CA(C_TSMC, "location Shanghai (Songjiang) from general knowledge; " +
        LOC)),
    ("tsmc-washington-camas", "TSMC Washington fab (8-inch), Camas", "US",
     "US-WA", (45.59, -122.40), FAB, ["8542"], ["WaferTech"],
     CA(C_TSMC, "city Camas and alias WaferTech from general knowledge; " +
        LOC)),
    ("tsmc-arizona-phoenix", "TSMC Arizona fab, Phoenix", "US", "US-AZ",
     (33.77, -112.13), FAB, ["8542"], ["TSMC Arizona"],
     CA(C_TSMC, "city Phoenix from general knowledge; " + LOC)),
    ("jasm-kumamoto", "TSMC Kumamoto fab (JASM)", "JP", "JP-43",
     (32.88, 130.83), FAB, ["8542"],
     ["Japan Advanced Semiconductor Manufacturing", "JASM"],
     CA(C_TSMC, LOC)),
    ("esmc-dresden", "TSMC Dresden fab (ESMC)", "DE", "DE-SN",
     (51.05, 13.74), FAB, ["8542"],
     ["European Semiconductor Manufacturing Company", "ESMC"],
     CA(C_TSMC, "ramp-up timing not in docs/sources.md; " + LOC)),
    # Samsung.
    ("samsung-xian", "Samsung Xi'an NAND fab", "CN", "CN-SN",
     (34.20, 108.86), FAB, ["854232"], ["Samsung China Semiconductor Co. Ltd"],
     CA(C_XIAN, "alias = the legal entity named in FR Doc "
        "2025-16735; " + LOC)),
    ("samsung-suzhou", "Samsung Suzhou packaging and test", "CN", "CN-JS",
     (31.30, 120.62), PT, ["854232"], [], CA(C_SUZHOU, LOC)),
    ("samsung-pyeongtaek", "Samsung Pyeongtaek campus", "KR", "KR-41",
     (37.02, 127.05), FAB, ["854232", "854231"], [],
     A("Samsung's Korean fabs are not listed in docs/sources.md; " + SITE)),
    ("samsung-hwaseong", "Samsung Hwaseong campus", "KR", "KR-41",
     (37.22, 127.07), FAB, ["854232", "854231"], [], A(SITE)),
    ("samsung-giheung", "Samsung Giheung campus", "KR", "KR-41",
     (37.23, 127.08), FAB, ["854231", "854239"], [], A(SITE)),
    ("samsung-onyang", "Samsung Onyang packaging and test", "KR", "KR-44",
     (36.79, 127.00), PT, ["854232"], [], A(SITE)),
    ("samsung-taylor", "Samsung Taylor fab (Texas)", "US", "US-TX",
     (30.57, -97.41), FAB, ["854231"], [], A(SITE)),
    ("samsung-gpu-cluster-kr",
     "Samsung Electronics Nvidia GPU cluster, Korea (site not settled)", "KR",
     "", None, DC, [], [],
     CA(C_NVIDIA_KR, "the 50,000 GPUs are modelled as one Korean site "
        "operated by Samsung; site unknown")),
    # SK hynix and Solidigm.
    ("skhynix-icheon", "SK hynix Icheon fabs", "KR", "KR-41",
     (37.27, 127.44), FAB, ["854232"], [],
     A("SK hynix's Korean fabs are not listed in docs/sources.md; " + SITE)),
    ("skhynix-cheongju", "SK hynix Cheongju fabs", "KR", "KR-43",
     (36.64, 127.49), FAB, ["854232"], [], A(SITE)),
    ("skhynix-wuxi", "SK hynix Wuxi DRAM fab", "CN", "CN-JS", (31.49, 120.31),
     FAB, ["854232"], ["SK hynix Semiconductor (China) Ltd"],
     CA(C_WUXI, "alias = the legal entity named in FR Doc 2025-16735; " +
        LOC)),
    ("skhynix-chongqing", "SK hynix Chongqing packaging and test", "CN",
     "CN-CQ", (29.56, 106.55), PT, ["854232"], [], CA(C_CHONGQING, LOC)),
    ("solidigm-dalian", "Solidigm Dalian 3D NAND fab (ex-Intel)", "CN",
     "CN-LN", (38.91, 121.61), FAB, ["854232", "852351"],
     ["Intel Semiconductor (Dalian) Ltd", "Intel Fab 68"],
     CA(C_DALIAN, "alias 'Intel Semiconductor (Dalian) Ltd' = the legal "
        "entity named in FR Doc 2025-16735; 'Intel Fab 68' from general "
        "knowledge; " + LOC)),
    ("sk-gpu-cluster-kr", "SK Group Nvidia GPU cluster, Korea (site not "
     "settled)", "KR", "", None, DC, [], [],
     CA(C_NVIDIA_KR, "the 50,000 GPUs are modelled as one Korean site "
        "operated by SK Group; site unknown")),
    # Intel.
    ("intel-hillsboro", "Intel Hillsboro fabs (Oregon)", "US", "US-OR",
     (45.52, -122.99), FAB, ["854231"], [], A(SITE)),
    ("intel-ocotillo", "Intel Ocotillo fabs, Chandler (Arizona)", "US",
     "US-AZ", (33.27, -111.88), FAB, ["854231"], [], A(SITE)),
    ("intel-leixlip", "Intel Leixlip fab (Ireland)", "IE", "IE-KE",
     (53.37, -6.50), FAB, ["854231"], [], A(SITE)),
    ("intel-kiryat-gat", "Intel Kiryat Gat fab (Israel)", "IL", "IL-D",
     (31.61, 34.77), FAB, ["854231"], [], A(SITE)),
    ("intel-penang", "Intel Penang assembly and test (Malaysia)", "MY",
     "MY-07", (5.30, 100.27), PT, ["854231"], [], A(SITE)),
    ("intel-chengdu", "Intel Chengdu assembly and test", "CN", "CN-SC",
     (30.66, 104.07), PT, ["854231"], [], A(SITE)),
    # Micron.
    ("micron-boise", "Micron Boise fab (Idaho)", "US", "US-ID",
     (43.53, -116.15), FAB, ["854232"], [], A(SITE)),
    ("micron-taichung", "Micron Taichung DRAM fab and HBM back-end", "TW",
     "TW-TXG", (24.30, 120.72), FAB, ["854232"], [], A(SITE)),
    ("micron-hiroshima", "Micron Hiroshima DRAM fab", "JP", "JP-34",
     (34.43, 132.74), FAB, ["854232"], [], A(SITE)),
    ("micron-singapore", "Micron Singapore NAND fabs", "SG", "", (1.37, 103.95),
     FAB, ["854232", "852351"], [], A(SITE)),
    ("micron-xian", "Micron Xi'an packaging and test", "CN", "CN-SN",
     (34.34, 108.94), PT, ["854232"], [], A(SITE)),
    ("micron-sanand", "Micron Sanand assembly and test (Gujarat)", "IN",
     "IN-GJ", (22.99, 72.38), PT, ["854232"], [], A(SITE)),
    # Foxconn (US sites from docs/sources.md; every city is an assumption).
    ("foxconn-wisconsin", "Foxconn Wisconsin plant (Mount Pleasant assumed)",
     "US", "US-WI", (42.70, -87.90), ASSEMBLY, ["8471", "8517"], [],
     CA(C_FOXCONN_OPENAI, "city Mount Pleasant assumed; " + LOC)),
    ("foxconn-ohio", "Foxconn Ohio plant, former EV plant (Lordstown "
     "assumed)", "US", "US-OH", (41.16, -80.86), ASSEMBLY,
     ["8471", "8517", "8544", "8504"], [],
     CA(C_FOXCONN_OPENAI, "city Lordstown assumed; " + LOC)),
    ("foxconn-texas", "Foxconn Texas plant (Houston assumed)", "US", "US-TX",
     (29.76, -95.37), ASSEMBLY, ["8471"], [],
     CA(C_FOXCONN_OPENAI, "city Houston assumed; " + LOC)),
    ("foxconn-guadalajara", "Foxconn Guadalajara server plant (Jalisco)",
     "MX", "MX-JAL", (20.67, -103.35), ASSEMBLY, ["8471"], [], A(SITE)),
    ("foxconn-ciudad-juarez", "Foxconn Ciudad Juárez plant (Chihuahua)", "MX",
     "MX-CHH", (31.69, -106.42), ASSEMBLY, ["8471"], [], A(SITE)),
    ("foxconn-longhua", "Foxconn Longhua campus, Shenzhen", "CN", "CN-GD",
     (22.65, 114.03), ASSEMBLY, ["8471"], [],
     A("operated by Foxconn Industrial Internet; " + SITE)),
    ("foxconn-zhengzhou", "Foxconn Zhengzhou campus", "CN", "CN-HA",
     (34.75, 113.63), ASSEMBLY, ["8517"], [], A(SITE)),
    ("foxconn-sriperumbudur", "Foxconn Sriperumbudur plant (Tamil Nadu)",
     "IN", "IN-TN", (12.97, 79.94), ASSEMBLY, ["8517"], [], A(SITE)),
    # Hyundai and LG Energy Solution.
    ("hyundai-ulsan", "Hyundai Ulsan plant", "KR", "KR-31", (35.54, 129.31),
     PLANT, ["8703"], [], A(SITE)),
    ("hyundai-alabama", "Hyundai Montgomery plant (Alabama)", "US", "US-AL",
     (32.37, -86.30), PLANT, ["8703"], [], A(SITE)),
    ("hyundai-metaplant-georgia", "Hyundai Motor Group Metaplant America "
     "(Georgia)", "US", "US-GA", (32.13, -81.46), PLANT, ["8703"], [],
     A(SITE)),
    ("hyundai-lges-battery-georgia", "Hyundai–LGES EV battery plant "
     "(Georgia)", "US", "US-GA", (32.14, -81.47), PLANT, ["8507"], [],
     CA(C_HYUNDAI, "joint venture with LG Energy Solution and Bryan County "
        "site from general knowledge; " + LOC)),
    ("hyundai-gpu-cluster-kr", "Hyundai Motor Group Nvidia GPU cluster, Korea "
     "(site not settled)", "KR", "", None, DC, [], [],
     CA(C_NVIDIA_KR, "the 50,000 GPUs are modelled as one Korean site "
        "operated by Hyundai Motor Group; site unknown")),
    ("lges-ochang", "LG Energy Solution Ochang battery plant", "KR", "KR-43",
     (36.71, 127.43), PLANT, ["8507"], [], A(SITE)),
    # Data centres and GPU clusters.
    ("korea-national-ai-computing-centre", "Korean government AI computing "
     "centre (site not settled)", "KR", "", None, DC, [], [],
     CA(C_NVIDIA_KR, "the government's 50,000 GPUs are modelled as one "
        "Korean site; site unknown")),
    ("naver-gak-chuncheon", "NAVER data centre GAK Chuncheon", "KR", "",
     (37.88, 127.73), DC, [], [], A(SITE)),
    ("naver-gak-sejong", "NAVER data centre GAK Sejong", "KR", "KR-50",
     (36.48, 127.29), DC, [], [], A(SITE)),
    ("yotta-navi-mumbai", "Yotta NM1 data centre, Navi Mumbai", "IN",
     "IN-MH", (19.03, 73.03), DC, [], [],
     CA(C_YOTTA, "the supercluster is split over Yotta's two campuses; " +
        SITE)),
    ("yotta-greater-noida", "Yotta D1 data centre, Greater Noida", "IN",
     "IN-UP", (28.47, 77.50), DC, [], [], CA(C_YOTTA, SITE)),
    ("aws-aragon-villanueva", "AWS Aragon data centre (Villanueva de Gállego "
     "area)", "ES", "ES-AR", (41.77, -0.83), DC, [], [],
     CA(C_AMAZON, "Aragon region and this site from general knowledge; " +
        LOC)),
    ("aws-aragon-el-burgo", "AWS Aragon data centre (El Burgo de Ebro area)",
     "ES", "ES-AR", (41.57, -0.74), DC, [], [],
     CA(C_AMAZON, "Aragon region and this site from general knowledge; " +
        LOC)),
    ("aws-aragon-huesca", "AWS Aragon data centre (Huesca area)", "ES",
     "ES-AR", (42.14, -0.41), DC, [], [],
     CA(C_AMAZON, "Aragon region and this site from general knowledge; " +
        LOC)),
    ("aws-ashburn", "AWS data centres, Ashburn (Virginia)", "US", "US-VA",
     (39.04, -77.49), DC, [], [], A(SITE)),
    ("microsoft-fairwater-wisconsin", "Microsoft Fairwater AI data centre, "
     "Mount Pleasant (Wisconsin)", "US", "US-WI", (42.71, -87.92), DC, [], [],
     A(SITE)),
    ("microsoft-madrid", "Microsoft Spain Central data centres (Madrid)",
     "ES", "ES-MD", (40.42, -3.70), DC, [], [], A(SITE)),
    ("google-council-bluffs", "Google data centre, Council Bluffs (Iowa)",
     "US", "US-IA", (41.26, -95.86), DC, [], [], A(SITE)),
    ("google-the-dalles", "Google data centre, The Dalles (Oregon)", "US",
     "US-OR", (45.60, -121.18), DC, [], [], A(SITE)),
    ("meta-prineville", "Meta data centre, Prineville (Oregon)", "US",
     "US-OR", (44.30, -120.83), DC, [], [], A(SITE)),
    ("meta-hyperion-louisiana", "Meta Hyperion data centre (Louisiana)", "US",
     "US-LA", (32.42, -91.76), DC, [], [], A(SITE)),
    ("oracle-abilene", "Oracle / OpenAI data centre, Abilene (Texas)", "US",
     "US-TX", (32.45, -99.73), DC, [], [], A(SITE)),
    # ODM / OEM plants.
    ("quanta-guishan", "Quanta Guishan server plant (Taoyuan)", "TW",
     "TW-TAO", (25.03, 121.39), ASSEMBLY, ["8471"], [], A(SITE)),
    ("quanta-shanghai", "Quanta Shanghai plant", "CN", "CN-SH",
     (31.05, 121.22), ASSEMBLY, ["8471"], [], A(SITE)),
    ("wistron-hsinchu", "Wistron Hsinchu plant", "TW", "TW-HSZ",
     (24.80, 120.97), ASSEMBLY, ["8471", "8473"], [], A(SITE)),
    ("wistron-kunshan", "Wistron Kunshan plant", "CN", "CN-JS",
     (31.39, 120.98), ASSEMBLY, ["8471"], [], A(SITE)),
    ("wistron-ciudad-juarez", "Wistron Ciudad Juárez plant", "MX", "MX-CHH",
     (31.72, -106.45), ASSEMBLY, ["8471"], [], A(SITE)),
    ("supermicro-san-jose", "Supermicro San Jose campus", "US", "US-CA",
     (37.38, -121.92), ASSEMBLY, ["8471"], [], A(SITE)),
    ("supermicro-bade", "Supermicro Bade campus (Taoyuan)", "TW", "TW-TAO",
     (24.93, 121.28), ASSEMBLY, ["8471"], [], A(SITE)),
    # Back-end (OSAT).
    ("ase-kaohsiung", "ASE Kaohsiung packaging and test", "TW", "TW-KHH",
     (22.72, 120.30), PT, ["8542"], [], A(SITE)),
    ("ase-penang", "ASE Penang packaging and test", "MY", "MY-07",
     (5.36, 100.30), PT, ["8542"], [], A(SITE)),
    ("amkor-incheon", "Amkor K5 packaging and test, Incheon", "KR", "KR-28",
     (37.38, 126.66), PT, ["8542"], [], A(SITE)),
    ("amkor-bac-ninh", "Amkor Bac Ninh packaging and test", "VN", "VN-56",
     (21.19, 106.07), PT, ["8542"], [], A(SITE)),
    # Equipment, wafers, substrates, passives, optics.
    ("asml-veldhoven", "ASML Veldhoven", "NL", "NL-NB", (51.42, 5.40), PLANT,
     ["8486"], [], A(SITE)),
    ("tel-miyagi", "Tokyo Electron Miyagi plant", "JP", "JP-04",
     (38.44, 140.89), PLANT, ["8486"], [], A(SITE)),
    ("tel-kumamoto", "Tokyo Electron Kyushu plant (Kumamoto)", "JP", "JP-43",
     (32.89, 130.79), PLANT, ["8486"], [], A(SITE)),
    ("amat-austin", "Applied Materials Austin manufacturing", "US", "US-TX",
     (30.27, -97.74), PLANT, ["8486"], [], A(SITE)),
    ("amat-singapore", "Applied Materials Singapore manufacturing", "SG", "",
     (1.35, 103.94), PLANT, ["8486"], [], A(SITE)),
    ("lam-fremont", "Lam Research Fremont manufacturing", "US", "US-CA",
     (37.55, -121.99), PLANT, ["8486"], [], A(SITE)),
    ("lam-penang", "Lam Research Batu Kawan plant (Penang)", "MY", "MY-07",
     (5.23, 100.44), PLANT, ["8486"], [], A(SITE)),
    ("shin-etsu-shirakawa", "Shin-Etsu Handotai Shirakawa wafer plant", "JP",
     "JP-07", (37.13, 140.21), PLANT, ["3818"], [], A(SITE)),
    ("sumco-imari", "SUMCO Imari wafer plant", "JP", "JP-41", (33.26, 129.88),
     PLANT, ["3818"], [], A(SITE)),
    ("ibiden-ogaki", "IBIDEN Ogaki substrate plant", "JP", "JP-21",
     (35.36, 136.62), PLANT, ["8534"], [], A(SITE)),
    ("unimicron-taoyuan", "Unimicron Taoyuan substrate plant", "TW", "TW-TAO",
     (24.99, 121.30), PLANT, ["8534"], [], A(SITE)),
    ("unimicron-kunshan", "Unimicron Kunshan substrate plant", "CN", "CN-JS",
     (31.40, 120.95), PLANT, ["8534"], [], A(SITE)),
    ("murata-fukui", "Murata Fukui MLCC plant", "JP", "JP-18",
     (35.90, 136.17), PLANT, ["8532"], [], A(SITE)),
    ("lumentum-san-jose", "Lumentum San Jose laser fab", "US", "US-CA",
     (37.41, -121.95), FAB, ["8541"], [], A(SITE)),
    ("lumentum-thailand", "Lumentum optical module production, Thailand",
     "TH", "", (14.10, 100.62), ASSEMBLY, ["8517"], [],
     A("contract-manufactured modules are modelled as a Lumentum site; " +
       SITE)),
    ("coherent-sherman", "Coherent Sherman fab (Texas)", "US", "US-TX",
     (33.64, -96.61), FAB, ["8541", "8517"], [], A(SITE)),
    ("coherent-wuxi", "Coherent Wuxi optics plant", "CN", "CN-JS",
     (31.57, 120.30), ASSEMBLY, ["8517"], [], A(SITE)),
    # Illustrative Entity List targets' fabs.
    ("smic-shanghai", "SMIC Shanghai fabs", "CN", "CN-SH", (31.20, 121.59),
     FAB, ["8542"], [], A(SITE)),
    ("ymtc-wuhan", "YMTC Wuhan NAND fab", "CN", "CN-HB", (30.45, 114.40), FAB,
     ["854232"], [], A(SITE)),
]

# --------------------------------------------------------------------------
# OPERATES: company -> facility, weight = the facility's share of the
# company's capacity. The shares of one company sum to <= 1; what is left is
# capacity not in the demo. Shares of a subsidiary's sites are stated as
# shares of the top parent group's capacity (see README.md, "Conventions").
# --------------------------------------------------------------------------
OP_SHARE = "capacity share assumed"
OPERATES = [
    ("tsmc", "tsmc-hsinchu", 0.22, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-taichung", 0.22, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-tainan", 0.32, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-kaohsiung", 0.03, CA(C_TSMC, OP_SHARE + " (ramping)")),
    ("tsmc", "tsmc-advanced-backend", 0.05, A(OP_SHARE)),
    ("tsmc", "tsmc-nanjing", 0.03, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-china-shanghai", 0.02, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-washington-camas", 0.01, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "tsmc-arizona-phoenix", 0.03, CA(C_TSMC, OP_SHARE)),
    ("tsmc", "jasm-kumamoto", 0.03,
     CA(C_TSMC, OP_SHARE + "; JASM's other shareholders are not modelled")),
    ("tsmc", "esmc-dresden", 0.01,
     CA(C_TSMC, OP_SHARE + "; ESMC's other shareholders are not modelled")),
    ("samsung-electronics", "samsung-xian", 0.375,
     CA(C_XIAN, "midpoint of ~35–40%; docs/sources.md gives a share of Samsung "
        "NAND, used here as a share of Samsung's capacity (the model has no "
        "per-product capacity), which overstates it")),
    ("samsung-electronics", "samsung-suzhou", 0.04, CA(C_SUZHOU, OP_SHARE)),
    ("samsung-electronics", "samsung-pyeongtaek", 0.28, A(OP_SHARE)),
    ("samsung-electronics", "samsung-hwaseong", 0.18, A(OP_SHARE)),
    ("samsung-electronics", "samsung-giheung", 0.06, A(OP_SHARE)),
    ("samsung-electronics", "samsung-onyang", 0.03, A(OP_SHARE)),
    ("samsung-electronics", "samsung-taylor", 0.01, A(OP_SHARE)),
    ("samsung-electronics", "samsung-gpu-cluster-kr", 0.01,
     CA(C_NVIDIA_KR, OP_SHARE)),
    ("sk-hynix", "skhynix-wuxi", 0.4,
     CA(C_WUXI, "~40% of SK hynix DRAM, used as a share of SK hynix's "
        "capacity (the model has no per-product capacity)")),
    ("sk-hynix", "skhynix-chongqing", 0.04, CA(C_CHONGQING, OP_SHARE)),
    ("sk-hynix", "skhynix-icheon", 0.35, A(OP_SHARE)),
    ("sk-hynix", "skhynix-cheongju", 0.2, A(OP_SHARE)),
    ("solidigm", "solidigm-dalian", 0.2,
     CA(C_DALIAN, "~20% of SK hynix NAND, stated as a share of the SK hynix "
        "group because SK hynix owns Solidigm 100% and OWNS passes "
        "Solidigm's exposure up in full; Dalian's share of Solidigm's own "
        "output is higher")),
    ("sk-group", "sk-gpu-cluster-kr", 0.02, CA(C_NVIDIA_KR, OP_SHARE)),
    ("intel", "intel-hillsboro", 0.25, A(OP_SHARE)),
    ("intel", "intel-ocotillo", 0.25, A(OP_SHARE)),
    ("intel", "intel-leixlip", 0.15, A(OP_SHARE)),
    ("intel", "intel-kiryat-gat", 0.1, A(OP_SHARE)),
    ("intel", "intel-penang", 0.1, A(OP_SHARE)),
    ("intel", "intel-chengdu", 0.08, A(OP_SHARE)),
    ("micron", "micron-taichung", 0.4, A(OP_SHARE)),
    ("micron", "micron-hiroshima", 0.22, A(OP_SHARE)),
    ("micron", "micron-boise", 0.1, A(OP_SHARE)),
    ("micron", "micron-singapore", 0.15, A(OP_SHARE)),
    ("micron", "micron-xian", 0.08, A(OP_SHARE)),
    ("micron", "micron-sanand", 0.02, A(OP_SHARE + " (ramping)")),
    ("foxconn", "foxconn-wisconsin", 0.02, CA(C_FOXCONN_OPENAI, OP_SHARE)),
    ("foxconn", "foxconn-ohio", 0.04,
     CA(C_FOXCONN_OPENAI, OP_SHARE + "; the largest of the three US sites "
        "because production is centred there")),
    ("foxconn", "foxconn-texas", 0.02, CA(C_FOXCONN_OPENAI, OP_SHARE)),
    ("foxconn", "foxconn-guadalajara", 0.05, A(OP_SHARE)),
    ("foxconn", "foxconn-ciudad-juarez", 0.03, A(OP_SHARE)),
    ("foxconn", "foxconn-zhengzhou", 0.15, A(OP_SHARE)),
    ("foxconn", "foxconn-sriperumbudur", 0.04, A(OP_SHARE)),
    ("foxconn-industrial-internet", "foxconn-longhua", 0.1,
     A(OP_SHARE + ", as a share of the Foxconn group's capacity (FII is "
       "84% owned by Foxconn)")),
    ("hyundai-motor-group", "hyundai-ulsan", 0.3, A(OP_SHARE)),
    ("hyundai-motor-group", "hyundai-alabama", 0.08, A(OP_SHARE)),
    ("hyundai-motor-group", "hyundai-metaplant-georgia", 0.06, A(OP_SHARE)),
    ("hyundai-motor-group", "hyundai-lges-battery-georgia", 0.03,
     CA(C_HYUNDAI, OP_SHARE)),
    ("hyundai-motor-group", "hyundai-gpu-cluster-kr", 0.01,
     CA(C_NVIDIA_KR, OP_SHARE)),
    ("lg-energy-solution", "lges-ochang", 0.25, A(OP_SHARE)),
    ("lg-energy-solution", "hyundai-lges-battery-georgia", 0.05,
     CA(C_HYUNDAI, "LGES co-operates the joint venture; " + OP_SHARE)),
    ("korea-government", "korea-national-ai-computing-centre", 0.5,
     CA(C_NVIDIA_KR, OP_SHARE)),
    ("naver-cloud", "naver-gak-chuncheon", 0.35, A(OP_SHARE)),
    ("naver-cloud", "naver-gak-sejong", 0.55, A(OP_SHARE)),
    ("yotta-data-services", "yotta-navi-mumbai", 0.6, CA(C_YOTTA, OP_SHARE)),
    ("yotta-data-services", "yotta-greater-noida", 0.35,
     CA(C_YOTTA, OP_SHARE)),
    ("amazon", "aws-aragon-villanueva", 0.02, CA(C_AMAZON, OP_SHARE)),
    ("amazon", "aws-aragon-el-burgo", 0.02, CA(C_AMAZON, OP_SHARE)),
    ("amazon", "aws-aragon-huesca", 0.02, CA(C_AMAZON, OP_SHARE)),
    ("amazon", "aws-ashburn", 0.2, A(OP_SHARE)),
    ("microsoft", "microsoft-fairwater-wisconsin", 0.06, A(OP_SHARE)),
    ("microsoft", "microsoft-madrid", 0.02, A(OP_SHARE)),
    ("google", "google-council-bluffs", 0.08, A(OP_SHARE)),
    ("google", "google-the-dalles", 0.06, A(OP_SHARE)),
    ("meta", "meta-prineville", 0.1, A(OP_SHARE)),
    ("meta", "meta-hyperion-louisiana", 0.08, A(OP_SHARE)),
    ("oracle", "oracle-abilene", 0.15, A(OP_SHARE)),
    ("quanta", "quanta-guishan", 0.4, A(OP_SHARE)),
    ("quanta", "quanta-shanghai", 0.3, A(OP_SHARE)),
    ("wistron", "wistron-hsinchu", 0.3, A(OP_SHARE)),
    ("wistron", "wistron-kunshan", 0.3, A(OP_SHARE)),
    ("wistron", "wistron-ciudad-juarez", 0.2, A(OP_SHARE)),
    ("supermicro", "supermicro-san-jose", 0.6, A(OP_SHARE)),
    ("supermicro", "supermicro-bade", 0.3, A(OP_SHARE)),
    ("ase", "ase-kaohsiung", 0.5, A(OP_SHARE)),
    ("ase", "ase-penang", 0.1, A(OP_SHARE)),
    ("amkor", "amkor-incheon", 0.3, A(OP_SHARE)),
    ("amkor", "amkor-bac-ninh", 0.15, A(OP_SHARE)),
    ("asml", "asml-veldhoven", 0.9, A(OP_SHARE)),
    ("tokyo-electron", "tel-miyagi", 0.3, A(OP_SHARE)),
    ("tokyo-electron", "tel-kumamoto", 0.3, A(OP_SHARE)),
    ("applied-materials", "amat-austin", 0.4, A(OP_SHARE)),
    ("applied-materials", "amat-singapore", 0.3, A(OP_SHARE)),
    ("lam-research", "lam-fremont", 0.4, A(OP_SHARE)),
    ("lam-research", "lam-penang", 0.4, A(OP_SHARE)),
    ("shin-etsu", "shin-etsu-shirakawa", 0.4, A(OP_SHARE)),
    ("sumco", "sumco-imari", 0.4, A(OP_SHARE)),
    ("ibiden", "ibiden-ogaki", 0.5, A(OP_SHARE)),
    ("unimicron", "unimicron-taoyuan", 0.5, A(OP_SHARE)),
    ("unimicron", "unimicron-kunshan", 0.2, A(OP_SHARE)),
    ("murata", "murata-fukui", 0.3, A(OP_SHARE)),
    ("lumentum", "lumentum-san-jose", 0.3, A(OP_SHARE)),
    ("lumentum", "lumentum-thailand", 0.5, A(OP_SHARE)),
    ("coherent", "coherent-sherman", 0.2, A(OP_SHARE)),
    ("coherent", "coherent-wuxi", 0.15, A(OP_SHARE)),
    ("smic", "smic-shanghai", 0.4, A(OP_SHARE)),
    ("ymtc", "ymtc-wuhan", 0.9, A(OP_SHARE)),
]

# --------------------------------------------------------------------------
# OWNS: parent -> child, weight = ownership share. Shares into one company
# sum to <= 1.
# --------------------------------------------------------------------------
OWNS = [
    ("sk-hynix", "solidigm", 1.0,
     CA(C_DALIAN, "docs/sources.md says 'SK hynix subsidiary'; 100% assumed")),
    ("sk-square", "sk-hynix", 0.2,
     A("SK Square holds ~20% of SK hynix; not in docs/sources.md")),
    ("sk-group", "sk-square", 0.3,
     A("SK Inc. holds ~30% of SK Square; not in docs/sources.md")),
    ("foxconn", "foxconn-industrial-internet", 0.84,
     A("Foxconn holds ~84% of FII; not in docs/sources.md")),
    ("hyundai-motor-group", "hyundai-motor-america", 1.0,
     A("wholly owned US distributor; not in docs/sources.md")),
    ("nvidia", "lumentum", 0.01,
     CA(C_NV_OPTICS, "stake size not in docs/sources.md; a 1% minority stake "
        "assumed")),
    ("nvidia", "coherent", 0.01,
     CA(C_NV_OPTICS, "stake size not in docs/sources.md; a 1% minority stake "
        "assumed")),
    ("smic", "hypothetical-cn-chip-jv", 0.3,
     A("illustrative: fictional 30% stake")),
    ("ymtc", "hypothetical-cn-chip-jv", 0.25,
     A("illustrative: fictional 25% stake")),
]

# Dated OWNS records of persons: owner slug, company slug, share, record id,
# effective_from, effective_until (None: no end), source. Several records of
# one pair are told apart by their record id; the one in effect counts.
PERSON_OWNS = [
    ("hypothetical-listed-investor", "hypothetical-hk-components-trader",
     0.45, "2019-stake", "2019-01-01T00:00:00Z", "2025-07-01T00:00:00Z",
     A("illustrative: fictional 45% stake, ended when it was raised")),
    ("hypothetical-listed-investor", "hypothetical-hk-components-trader",
     0.51, "2025-stake", "2025-07-01T00:00:00Z", None,
     A("illustrative: fictional stake raised to 51% on 1 Jul 2025, which "
       "brings the company under OFAC's 50% rule from that day")),
]

# --------------------------------------------------------------------------
# SUPPLIES: supplier -> customer, HS code, weight = the customer's dependency
# share on this supplier for that product. For one customer and one code the
# shares sum to <= 1 (the rest: suppliers not in the demo). Endpoints are
# facilities where the physical flow is known well enough, companies where
# only the commercial relation is (Nvidia is fabless; Dell and OpenAI are
# modelled as buyers). Optional: effective_from.
# --------------------------------------------------------------------------
DEP = "dependency share assumed"
SUPPLIES = []


def supply(frm, to, code, weight, source, effective_from=None):
    SUPPLIES.append((frm, to, code, weight, source, effective_from))


# Semiconductor equipment (8486) and wafers (3818) into the main fabs.
_FABS_NON_CN = ["tsmc-hsinchu", "tsmc-taichung", "tsmc-tainan",
                "tsmc-kaohsiung", "tsmc-arizona-phoenix", "samsung-pyeongtaek",
                "samsung-hwaseong", "skhynix-icheon", "skhynix-cheongju",
                "micron-taichung", "micron-hiroshima", "intel-hillsboro"]
_FABS_CN = ["tsmc-nanjing", "samsung-xian", "skhynix-wuxi", "solidigm-dalian"]
for i, fab in enumerate(_FABS_NON_CN + _FABS_CN):
    cn = fab in _FABS_CN
    amat = "amat-austin" if i % 2 == 0 else "amat-singapore"
    lam = "lam-fremont" if i % 2 == 0 else "lam-penang"
    tel = "tel-kumamoto" if i % 2 == 0 else "tel-miyagi"
    eq = A(DEP + " (tool mix of a leading fab" +
           ("; lower lithography share for a Chinese fab)" if cn else ")"))
    supply("asml-veldhoven", fab, "8486", 0.1 if cn else 0.3, eq)
    supply(amat, fab, "8486", 0.3 if cn else 0.25, eq)
    supply(lam, fab, "8486", 0.25 if cn else 0.2, eq)
    supply(tel, fab, "8486", 0.25 if cn else 0.15, eq)
    supply("shin-etsu-shirakawa", fab, "3818", 0.35, A(DEP))
    supply("sumco-imari", fab, "3818", 0.3, A(DEP))

# GPU wafers into TSMC's advanced packaging; HBM and substrates likewise.
supply("tsmc-tainan", "tsmc-advanced-backend", "854231", 0.55, A(DEP))
supply("tsmc-hsinchu", "tsmc-advanced-backend", "854231", 0.2, A(DEP))
supply("tsmc-taichung", "tsmc-advanced-backend", "854231", 0.1, A(DEP))
supply("tsmc-kaohsiung", "tsmc-advanced-backend", "854231", 0.05, A(DEP))
supply("tsmc-arizona-phoenix", "tsmc-advanced-backend", "854231", 0.05,
       CA(C_TSMC, DEP + "; Arizona wafers packaged in Taiwan"))
supply("skhynix-icheon", "tsmc-advanced-backend", "854232", 0.45,
       A("HBM; " + DEP))
supply("skhynix-cheongju", "tsmc-advanced-backend", "854232", 0.15,
       A("HBM; " + DEP))
supply("samsung-pyeongtaek", "tsmc-advanced-backend", "854232", 0.15,
       A("HBM; " + DEP))
supply("micron-taichung", "tsmc-advanced-backend", "854232", 0.2,
       A("HBM; " + DEP))
supply("ibiden-ogaki", "tsmc-advanced-backend", "8534", 0.4,
       A("ABF substrates; " + DEP))
supply("unimicron-taoyuan", "tsmc-advanced-backend", "8534", 0.35,
       A("ABF substrates; " + DEP))
supply("unimicron-kunshan", "tsmc-advanced-backend", "8534", 0.1,
       A("substrates from China into Taiwan (crosses the strait); " + DEP))
supply("tsmc-tainan", "ase-kaohsiung", "854231", 0.5, A(DEP))
supply("tsmc-hsinchu", "amkor-incheon", "854231", 0.4, A(DEP))

# Nvidia (fabless): packaged GPUs and optics.
supply("tsmc-advanced-backend", "nvidia", "854231", 0.8,
       A("Nvidia's GPUs are made and packaged by TSMC; " + DEP))
supply("ase-kaohsiung", "nvidia", "854231", 0.1, A(DEP))
supply("amkor-incheon", "nvidia", "854231", 0.05, A(DEP))
supply("lumentum-thailand", "nvidia", "8517", 0.2,
       CA(C_NV_OPTICS, "optical modules; " + DEP))
supply("coherent-sherman", "nvidia", "8517", 0.15,
       CA(C_NV_OPTICS, "optical modules; " + DEP))
supply("coherent-wuxi", "nvidia", "8517", 0.1,
       CA(C_NV_OPTICS, "optical modules from China; " + DEP))
supply("lumentum-san-jose", "lumentum-thailand", "8541", 0.6,
       A("lasers into modules; " + DEP))

# FuriosaAI (fabless): RNGD.
supply("tsmc-hsinchu", "furiosaai", "854231", 0.9,
       CA(C_FURIOSA, "RNGD made at TSMC; " + DEP))
supply("skhynix-icheon", "furiosaai", "854232", 0.8,
       CA(C_FURIOSA, "HBM from SK hynix; " + DEP))

# GPUs and CPUs (854231) into server plants.
_GPU = A("GPUs; " + DEP)
_CPU = A("CPUs; " + DEP)
for plant, nv, cpu_from, cpu in [
        ("foxconn-ohio", 0.85, "intel-penang", 0.1),
        ("foxconn-wisconsin", 0.8, "intel-penang", 0.1),
        ("foxconn-texas", 0.85, "intel-penang", 0.1),
        ("foxconn-guadalajara", 0.85, "intel-penang", 0.1),
        ("foxconn-ciudad-juarez", 0.6, "intel-penang", 0.3),
        ("quanta-guishan", 0.75, "intel-penang", 0.15),
        ("wistron-hsinchu", 0.8, "intel-penang", 0.15),
        ("wistron-ciudad-juarez", 0.75, "intel-penang", 0.15),
        ("supermicro-san-jose", 0.8, "intel-penang", 0.15),
        ("supermicro-bade", 0.8, "intel-penang", 0.15)]:
    supply("nvidia", plant, "854231", nv, _GPU)
    supply(cpu_from, plant, "854231", cpu, _CPU)
for plant, cpu in [("foxconn-longhua", 0.4), ("quanta-shanghai", 0.3),
                   ("wistron-kunshan", 0.3)]:
    supply("intel-chengdu", plant, "854231", cpu, _CPU)
supply("intel-hillsboro", "intel-penang", "854231", 0.35, A(DEP))
supply("intel-ocotillo", "intel-penang", "854231", 0.35, A(DEP))
supply("intel-leixlip", "intel-penang", "854231", 0.2, A(DEP))
supply("intel-ocotillo", "intel-chengdu", "854231", 0.5, A(DEP))
supply("intel-leixlip", "intel-chengdu", "854231", 0.3, A(DEP))

# Other ICs (854239) into Chinese plants, including the illustrative
# listed suppliers.
_IC = A("power-management and other ICs; " + DEP)
supply("tsmc-nanjing", "foxconn-longhua", "854239", 0.2, _IC)
supply("smic-shanghai", "foxconn-longhua", "854239", 0.15, _IC)
supply("hypothetical-cn-chip-jv", "foxconn-longhua", "854239", 0.1,
       A("illustrative supplier; " + DEP))
supply("smic-shanghai", "quanta-shanghai", "854239", 0.2, _IC)
supply("tsmc-nanjing", "quanta-shanghai", "854239", 0.15, _IC)
supply("tsmc-china-shanghai", "wistron-kunshan", "854239", 0.2, _IC)
supply("hypothetical-cn-chip-jv", "wistron-kunshan", "854239", 0.2,
       A("illustrative supplier; " + DEP))
supply("ase-penang", "foxconn-guadalajara", "854239", 0.2, _IC)
supply("amkor-bac-ninh", "wistron-hsinchu", "854239", 0.2, _IC)

# Memory (854232) between fabs, back-end and server makers.
_MEM = A("DRAM/NAND; " + DEP)
supply("skhynix-wuxi", "skhynix-chongqing", "854232", 0.7,
       CA(C_CHONGQING, "Wuxi DRAM packaged and tested in Chongqing; " + DEP))
supply("samsung-xian", "samsung-suzhou", "854232", 0.5,
       CA(C_SUZHOU, "Xi'an NAND packaged and tested in Suzhou; " + DEP))
supply("samsung-hwaseong", "samsung-onyang", "854232", 0.5, _MEM)
supply("samsung-pyeongtaek", "samsung-onyang", "854232", 0.4, _MEM)
for plant, parts in [
        ("supermicro-san-jose", [("samsung-pyeongtaek", 0.25),
                                 ("skhynix-icheon", 0.25),
                                 ("micron-boise", 0.2),
                                 ("samsung-suzhou", 0.1)]),
        ("supermicro-bade", [("micron-taichung", 0.35),
                             ("skhynix-icheon", 0.3),
                             ("samsung-pyeongtaek", 0.25)]),
        ("foxconn-guadalajara", [("skhynix-icheon", 0.35),
                                 ("samsung-pyeongtaek", 0.3),
                                 ("micron-boise", 0.2)]),
        ("foxconn-ohio", [("samsung-pyeongtaek", 0.35),
                          ("skhynix-icheon", 0.35), ("micron-boise", 0.2)]),
        ("quanta-guishan", [("micron-taichung", 0.4),
                            ("skhynix-icheon", 0.3),
                            ("samsung-hwaseong", 0.2)]),
        ("wistron-ciudad-juarez", [("samsung-hwaseong", 0.3),
                                   ("micron-boise", 0.3),
                                   ("skhynix-chongqing", 0.2)]),
        ("foxconn-longhua", [("samsung-suzhou", 0.3),
                             ("skhynix-chongqing", 0.3),
                             ("ymtc-wuhan", 0.1)]),
        ("quanta-shanghai", [("skhynix-chongqing", 0.35),
                             ("samsung-suzhou", 0.3),
                             ("micron-xian", 0.1)]),
        ("wistron-kunshan", [("ymtc-wuhan", 0.1),
                             ("samsung-suzhou", 0.3),
                             ("micron-xian", 0.2)]),
        ("dell", [("samsung-pyeongtaek", 0.3), ("micron-boise", 0.3),
                  ("skhynix-chongqing", 0.15), ("samsung-suzhou", 0.1),
                  ("micron-xian", 0.1)])]:
    for supplier, w in parts:
        supply(supplier, plant, "854232", w, _MEM)
_SSD = A("solid-state drives; " + DEP)
supply("solidigm-dalian", "supermicro-san-jose", "852351", 0.2, _SSD)
supply("samsung-xian", "supermicro-san-jose", "852351", 0.2, _SSD)
supply("solidigm-dalian", "dell", "852351", 0.25, _SSD)
supply("samsung-xian", "dell", "852351", 0.2, _SSD)
supply("micron-singapore", "dell", "852351", 0.2, _SSD)
supply("solidigm-dalian", "foxconn-longhua", "852351", 0.2, _SSD)
supply("solidigm-dalian", "quanta-shanghai", "852351", 0.2, _SSD)
supply("samsung-xian", "wistron-kunshan", "852351", 0.2, _SSD)
supply("micron-singapore", "quanta-guishan", "852351", 0.2, _SSD)

# Substrates, boards, passives and optics into server plants.
supply("unimicron-taoyuan", "quanta-shanghai", "8534", 0.3,
       A("boards from Taiwan into China (crosses the strait); " + DEP))
supply("wistron-hsinchu", "wistron-kunshan", "8473", 0.3,
       A("boards from Taiwan into China (crosses the strait); " + DEP))
for plant in ["foxconn-guadalajara", "quanta-guishan", "wistron-hsinchu",
              "foxconn-longhua"]:
    supply("murata-fukui", plant, "8532", 0.3, A("MLCCs; " + DEP))
supply("coherent-wuxi", "quanta-guishan", "8517", 0.15,
       A("optics from China into Taiwan (crosses the strait); " + DEP))

# Servers (847150) into OEMs and data centres.
_SRV = A("AI servers and racks; " + DEP)
for dc, parts in [
        ("dell", [("foxconn-longhua", 0.15), ("quanta-shanghai", 0.1),
                  ("wistron-ciudad-juarez", 0.25),
                  ("foxconn-ciudad-juarez", 0.2)]),
        ("microsoft-fairwater-wisconsin", [("foxconn-wisconsin", 0.25),
                                           ("foxconn-guadalajara", 0.3),
                                           ("wistron-ciudad-juarez", 0.2),
                                           ("quanta-guishan", 0.1)]),
        ("microsoft-madrid", [("quanta-guishan", 0.4),
                              ("wistron-hsinchu", 0.3),
                              ("foxconn-longhua", 0.1)]),
        ("oracle-abilene", [("foxconn-texas", 0.3),
                            ("foxconn-guadalajara", 0.3),
                            ("supermicro-san-jose", 0.2)]),
        ("google-council-bluffs", [("quanta-guishan", 0.4),
                                   ("foxconn-guadalajara", 0.3)]),
        ("google-the-dalles", [("quanta-guishan", 0.4),
                               ("wistron-hsinchu", 0.3)]),
        ("meta-prineville", [("quanta-guishan", 0.3),
                             ("wistron-ciudad-juarez", 0.3),
                             ("foxconn-guadalajara", 0.2)]),
        ("meta-hyperion-louisiana", [("foxconn-texas", 0.25),
                                     ("quanta-guishan", 0.3),
                                     ("wistron-ciudad-juarez", 0.2)]),
        ("aws-ashburn", [("foxconn-guadalajara", 0.3),
                         ("quanta-guishan", 0.3),
                         ("wistron-ciudad-juarez", 0.2)]),
        ("aws-aragon-villanueva", [("quanta-guishan", 0.35),
                                   ("wistron-hsinchu", 0.25),
                                   ("foxconn-guadalajara", 0.15)]),
        ("aws-aragon-el-burgo", [("quanta-guishan", 0.35),
                                 ("wistron-hsinchu", 0.25),
                                 ("foxconn-guadalajara", 0.15)]),
        ("aws-aragon-huesca", [("quanta-guishan", 0.35),
                               ("wistron-hsinchu", 0.25),
                               ("foxconn-guadalajara", 0.15)]),
        ("yotta-navi-mumbai", [("supermicro-bade", 0.5), ("dell", 0.3),
                               ("quanta-shanghai", 0.1)]),
        ("yotta-greater-noida", [("supermicro-bade", 0.4), ("dell", 0.4),
                                 ("foxconn-longhua", 0.1)])]:
    for supplier, w in parts:
        src = _SRV
        if dc.startswith("yotta-"):
            src = CA(C_YOTTA, "server sources of the Yotta campuses; " +
                     DEP)
        elif dc.startswith("aws-aragon-"):
            src = CA(C_AMAZON, "server sources of the Spanish sites; " + DEP)
        supply(supplier, dc, "847150", w, src)
_OPT = A("optical modules; " + DEP)
supply("coherent-sherman", "google-council-bluffs", "8517", 0.25, _OPT)
supply("lumentum-thailand", "google-council-bluffs", "8517", 0.2, _OPT)
supply("coherent-wuxi", "aws-ashburn", "8517", 0.15, _OPT)
supply("lumentum-thailand", "meta-prineville", "8517", 0.2, _OPT)
supply("coherent-sherman", "microsoft-fairwater-wisconsin", "8517", 0.2,
       _OPT)

# The Nvidia–Korea deal (from its announcement, 31 Oct 2025).
_KR_FROM = "2025-10-31T00:00:00Z"
for site, w in [("korea-national-ai-computing-centre", 0.9),
                ("samsung-gpu-cluster-kr", 0.9),
                ("sk-gpu-cluster-kr", 0.9),
                ("hyundai-gpu-cluster-kr", 0.9),
                ("naver-gak-sejong", 0.6),
                ("naver-gak-chuncheon", 0.6)]:
    supply("nvidia", site, "854231", w,
           CA(C_NVIDIA_KR, "GPU dependency share assumed; counted from the "
              "announcement"), _KR_FROM)
supply("furiosaai", "naver-gak-sejong", "854231", 0.1,
       CA(C_FURIOSA, "Naver as an RNGD user is assumed; " + DEP))

# OpenAI: racks from Foxconn's US sites (option to buy: small shares) and
# compute from partners' data centres (a service: no HS code).
_FOX_FROM = "2025-11-20T00:00:00Z"
_RACK = CA(C_FOXCONN_OPENAI, "OpenAI's dependency share assumed small "
           "because the deal is an option to buy")
supply("foxconn-ohio", "openai", "847150", 0.1, _RACK, _FOX_FROM)
supply("foxconn-wisconsin", "openai", "847150", 0.03, _RACK, _FOX_FROM)
supply("foxconn-texas", "openai", "847150", 0.03, _RACK, _FOX_FROM)
supply("foxconn-ohio", "openai", "8517", 0.05, _RACK, _FOX_FROM)
supply("foxconn-ohio", "openai", "8544", 0.05, _RACK, _FOX_FROM)
supply("foxconn-ohio", "openai", "8504", 0.05, _RACK, _FOX_FROM)
supply("microsoft-fairwater-wisconsin", "openai", "", 0.3,
       A("cloud compute for OpenAI (a service, no HS code); " + DEP))
supply("oracle-abilene", "openai", "", 0.3,
       A("cloud compute for OpenAI (a service, no HS code); " + DEP))

# Hyundai: vehicles and batteries.
supply("hyundai-ulsan", "hyundai-motor-america", "8703", 0.45,
       A("vehicles exported from Korea; " + DEP))
supply("hyundai-alabama", "hyundai-motor-america", "8703", 0.3, A(DEP))
supply("hyundai-metaplant-georgia", "hyundai-motor-america", "8703", 0.15,
       A(DEP))
supply("hyundai-lges-battery-georgia", "hyundai-metaplant-georgia", "8507",
       0.6, CA(C_HYUNDAI, DEP))
supply("lges-ochang", "hyundai-metaplant-georgia", "8507", 0.2,
       A("battery cells exported from Korea; " + DEP))
supply("lges-ochang", "hyundai-alabama", "8507", 0.4,
       A("battery cells exported from Korea; " + DEP))
supply("lges-ochang", "hyundai-ulsan", "8507", 0.3, A(DEP))

# --------------------------------------------------------------------------
# Signals.
# --------------------------------------------------------------------------
SIGNALS = []


def ts(day):
    return day + "T00:00:00Z"


def export_control(slug, title, kind, targets, severity, source, start=None,
                   end=None, authority="US-BIS", lst=None, measure=None):
    ec = {"authority": authority, "kind": kind, "targetIds": targets,
          "severity": severity}
    if lst:
        ec["list"] = lst
    if measure:
        ec["measure"] = measure
    SIGNALS.append(("signal/" + slug, {"exportControl": ec}, start, end,
                    source, title))


def tariff(slug, title, programme, origin, hs, rate, source, start=None,
           end=None, importer="US"):
    t = {"programme": programme, "importerCountry": importer,
         "originCountry": origin}
    if hs:
        t["hsPrefix"] = hs
    t["rate"] = rate
    SIGNALS.append(("signal/" + slug, {"tariff": t}, start, end, source,
                    title))


_VEU_3 = ["facility/samsung-xian", "facility/skhynix-wuxi",
          "facility/solidigm-dalian"]
export_control(
    "bis-veu-revocation-2025",
    "BIS revokes the VEU authorizations of Samsung Xi'an, SK hynix Wuxi and "
    "the Dalian fab (before the 2026 licences)",
    "FACILITY_AUTHORIZATION_REVOKED", _VEU_3, 0.6,
    CA(C_VEU, "severity 0.6 = losing VEU status with no licence in force; "
       "this record covers 31 Dec 2025 only, the 2026 licences take over "
       "from 1 Jan 2026 (signal/bis-veu-revocation-2025-licensed-2026)"),
    ts("2025-12-31"), ts("2026-01-01"))
export_control(
    "bis-veu-revocation-2025-licensed-2026",
    "VEU revoked (90 FR 42321): 2026 annual licences allow maintenance, "
    "not expansion or upgrades",
    "FACILITY_AUTHORIZATION_REVOKED", _VEU_3, 0.3,
    C_VEU + "; " + CA(C_LICENCES, "severity 0.3 = revocation softened by a "
                      "maintenance-only licence for calendar 2026; the Dalian "
                      "fab (Solidigm, an SK hynix subsidiary) is assumed "
                      "covered by SK hynix's licence"),
    ts("2026-01-01"), ts("2027-01-01"))
export_control(
    "bis-veu-revocation-2025-from-2027",
    "VEU revoked (90 FR 42321): no licence known beyond 2026",
    "FACILITY_AUTHORIZATION_REVOKED", _VEU_3, 0.6,
    CA(C_VEU, "the 2026 licences are annual; no 2027 licence is reported, "
       "so full severity 0.6 is assumed from 1 Jan 2027"),
    ts("2027-01-01"))
export_control(
    "bis-veu-revocation-tsmc-nanjing-2025",
    "BIS revokes TSMC Nanjing's VEU authorization",
    "FACILITY_AUTHORIZATION_REVOKED", ["facility/tsmc-nanjing"], 0.6,
    CA(C_VEU_TSMC, "severity 0.6 as for the other revocations; no 2026 "
       "licence for TSMC Nanjing is reported in docs/sources.md"),
    ts("2025-12-31"))
export_control(
    "bis-el-smic-illustrative",
    "Illustrative: SMIC on the BIS Entity List",
    "ENTITY_LISTING", ["company/smic"], 0.7,
    A("illustrative Entity List listing for the demo, not from docs/sources.md; "
      "severity 0.7 and the start date (a placeholder, 1 Jan 2025) are "
      "assumed"),
    ts("2025-01-01"), None, lst="EL")
export_control(
    "bis-el-ymtc-illustrative",
    "Illustrative: YMTC on the BIS Entity List",
    "ENTITY_LISTING", ["company/ymtc"], 0.7,
    A("illustrative Entity List listing for the demo, not from docs/sources.md; "
      "severity 0.7 and the start date (a placeholder, 1 Jan 2025) are "
      "assumed"),
    ts("2025-01-01"), None, lst="EL")

tariff("us-kr-deal-15pct", "US–Korea deal: 15% on Korean imports",
       "US-KR deal", "KR", "", 0.15,
       CA(C_USKR, "effective 1 Aug 2025, the date the threatened 25% was "
          "due"), ts("2025-08-01"))
for hs, what in [("8703", "autos"), ("8708", "auto parts")]:
    tariff("us-kr-deal-%s-25pct" % hs,
           "US–Korea: %s at 25%% before the 29 Oct 2025 terms" % what,
           "US-KR deal", "KR", hs, 0.25,
           CA(C_USKR_AUTOS, "the 25%% %s rate is put in the deal programme "
              "so that, being more specific, it replaces (does not add to) "
              "the 15%% general rate from 1 Aug 2025; its legal basis and "
              "earlier history are not in docs/sources.md" % what),
           ts("2025-08-01"), ts("2025-11-01"))
    tariff("us-kr-deal-%s-15pct" % hs,
           "US–Korea: %s cut from 25%% to 15%% from 1 Nov 2025" % what,
           "US-KR deal", "KR", hs, 0.15, C_USKR_AUTOS, ts("2025-11-01"))
for hs in ["8541", "8542"]:
    tariff("us-kr-deal-%s-0pct" % hs,
           "US–Korea: semiconductors (HS %s) no less favourable than "
           "Taiwan's" % hs,
           "US-KR deal", "KR", hs, 0.0,
           CA(C_USKR_SEMIS,
              "Taiwan's rate is not in docs/sources.md and this dataset has no US "
              "tariff on Taiwanese chips, so Korean chips get 0%%; being more "
              "specific, this rule replaces the 15%% general rate for HS %s; "
              "from 1 Nov 2025, as for autos" % hs),
           ts("2025-11-01"))
for hs in ["8541", "8542"]:
    tariff("section-301-cn-%s" % hs,
           "Section 301: 50%% on Chinese semiconductors (HS %s)" % hs,
           "Section 301", "CN", hs, 0.5, C_301, ts("2025-01-01"))
_LEGACY = ["280461", "381800", "854110", "854121", "854129", "854130",
           "854149", "854151", "854159"]
for hs in _LEGACY:
    tariff("section-301-legacy-%s-0pct" % hs,
           "Section 301 legacy chips: additional 0%% on HS %s until 23 Jun "
           "2027" % hs,
           "Section 301 legacy chips", "CN", hs, 0.0,
           CA(C_301_LEGACY, "in force from the determination date; only the "
              "9 subheadings docs/sources.md names are modelled (of 18)"),
           ts("2025-12-23"), ts("2027-06-23"))
    tariff("section-301-legacy-%s-2027" % hs,
           "Section 301 legacy chips: rate on HS %s rises on 23 Jun 2027 "
           "(placeholder rate)" % hs,
           "Section 301 legacy chips", "CN", hs, 0.25,
           CA(C_301_LEGACY, "docs/sources.md gives no rate after 23 Jun 2027; 25% "
              "is a placeholder so that a scenario dated then shows the "
              "rise"),
           ts("2027-06-23"))
tariff("ieepa-fentanyl-cn-20pct", "IEEPA 'fentanyl' tariff on China: 20%",
       "IEEPA fentanyl", "CN", "", 0.2,
       CA(C_IEEPA, "start of the 20% rate not in docs/sources.md; 4 Mar 2025 "
          "assumed"), ts("2025-03-04"), ts("2025-11-10"))
tariff("ieepa-fentanyl-cn-10pct",
       "IEEPA 'fentanyl' tariff on China cut to 10% from 10 Nov 2025",
       "IEEPA fentanyl", "CN", "", 0.1, C_IEEPA, ts("2025-11-10"))
tariff("ieepa-reciprocal-cn-10pct",
       "IEEPA reciprocal tariff on China: 10% to 10 Nov 2026",
       "IEEPA reciprocal", "CN", "", 0.1,
       CA(C_IEEPA, "start of the 10% rate not in docs/sources.md; 14 May 2025 "
          "assumed; what applies after 10 Nov 2026 is not in docs/sources.md and "
          "is not modelled"), ts("2025-05-14"), ts("2026-11-10"))
SIGNALS.append((
    "signal/cross-strait-tension", {"tension": {"theatre": "cross_strait",
                                                "level": 0.6}},
    ts("2025-01-01"), None,
    CA(C_GPR, "level 0.6 is an assumed percentile, not computed from the "
       "index; held from 1 Jan 2025; country weights left to the model's "
       "defaults (TW 1.0, CN 0.5)"),
    "Cross-strait tension at the 60th percentile of its history (assumed)"))

# --------------------------------------------------------------------------
# Rendering.
# --------------------------------------------------------------------------


export_control(
    "ofac-sdn-hypothetical-investor",
    "Illustrative: a hypothetical investor on the OFAC SDN list",
    "ENTITY_LISTING", ["person/hypothetical-listed-investor"], 0.9,
    A("fictional SDN-style listing of a fictional person, so that OFAC's 50% "
      "rule reaches the company the person owns 51% of"),
    start=ts("2024-03-01"), authority="US-OFAC", lst="SDN",
    measure="MEASURE_BLOCKING_SANCTION")


def entity_records():
    out = []
    for slug, name, country, aliases, codes, source in COMPANIES:
        e = {"id": "company/" + slug, "kind": "COMPANY", "name": name,
             "country": country}
        if codes:
            e["productCodes"] = codes
        if aliases:
            e["aliases"] = aliases
        if slug in IDENTIFIERS:
            e["identifiers"] = IDENTIFIERS[slug]
        e["source"] = source
        out.append({"upsertEntity": e})
    for (slug, name, country, region, loc, ftype, codes, aliases,
         source) in FACILITIES:
        e = {"id": "facility/" + slug, "kind": "FACILITY", "name": name,
             "country": country}
        if region:
            e["region"] = region
        if loc:
            e["location"] = {"latitude": loc[0], "longitude": loc[1]}
        e["facilityType"] = ftype
        if codes:
            e["productCodes"] = codes
        if aliases:
            e["aliases"] = aliases
        e["source"] = source
        out.append({"upsertEntity": e})
    for slug, name, country, source in PERSONS:
        e = {"id": "person/" + slug, "kind": "PERSON", "name": name}
        if country:
            e["country"] = country
        e["source"] = source
        out.append({"upsertEntity": e})
    return out


def edge_records():
    out = []

    def edge(frm, to, kind, weight, source, code="", start=None, end=None,
             record_id=""):
        e = {"fromId": frm, "toId": to, "kind": kind, "weight": weight}
        if code:
            e["productCode"] = code
        if start:
            e["effectiveFrom"] = start
        if end:
            e["effectiveUntil"] = end
        e["source"] = source
        if record_id:
            e["recordId"] = record_id
        out.append({"upsertEdge": e})

    for parent, child, w, source in OWNS:
        edge("company/" + parent, "company/" + child, "OWNS", w, source)
    for person, child, w, rid, start, end, source in PERSON_OWNS:
        edge("person/" + person, "company/" + child, "OWNS", w, source,
             start=start, end=end, record_id=rid)
    for company, facility, w, source in OPERATES:
        edge("company/" + company, "facility/" + facility, "OPERATES", w,
             source)
    kinds = {slug: "company" for slug, *_ in COMPANIES}
    kinds.update({slug: "facility" for slug, *_ in FACILITIES})
    for frm, to, code, w, source, start in SUPPLIES:
        edge(kinds.get(frm, "?") + "/" + frm, kinds.get(to, "?") + "/" + to,
             "SUPPLIES", w, source, code, start)
    return out


def signal_records():
    out = []
    for sid, detail, start, end, source, title in SIGNALS:
        s = {"id": sid}
        s.update(detail)
        if start:
            s["effectiveFrom"] = start
        if end:
            s["effectiveUntil"] = end
        s["source"] = source
        s["title"] = title
        out.append({"upsertSignal": s})
    return out


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def render(records):
    lines = []
    for r in records:
        key = hashlib.sha256(dumps(r).encode("utf-8")).hexdigest()[:24]
        r = dict(r)
        r["idempotencyKey"] = "demo-v1:" + key
        lines.append(dumps(r))
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------
# Checks (the same ones tests/demo_data_test.cc makes, in Python, so that a
# bad edit fails here first).
# --------------------------------------------------------------------------
SLUG = re.compile(
    r"^(company|facility|person|signal)/[a-z0-9][a-z0-9._:-]{0,127}$")
REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
HS = re.compile(r"^[0-9]{2,10}$")


def check(entities, edges, signals):
    errors = []
    ids = Counter()
    country = {}
    for m in entities:
        e = m["upsertEntity"]
        ids[e["id"]] += 1
        country[e["id"]] = e.get("country", "")
        if not SLUG.match(e["id"]):
            errors.append("bad id " + e["id"])
        if e.get("region") and (not REGION.match(e["region"]) or
                                e["region"][:2] != e["country"]):
            errors.append("bad region " + e["id"])
        if len(e["name"].encode("utf-8")) > 512:
            errors.append("long name " + e["id"])
    for s in signals:
        ids[s["upsertSignal"]["id"]] += 1
    errors += ["duplicate id " + i for i, n in ids.items() if n > 1]

    supply_sum = defaultdict(float)
    codes_of = defaultdict(set)
    owned_by = defaultdict(lambda: defaultdict(float))
    capacity = defaultdict(float)
    keys = Counter()
    for m in edges:
        e = m["upsertEdge"]
        keys[(e["fromId"], e["kind"], e["toId"], e.get("productCode", ""),
              e.get("recordId", ""))] += 1
        for end in ("fromId", "toId"):
            if e[end] not in country:
                errors.append("edge endpoint missing: " + e[end])
        if not 0 <= e["weight"] <= 1:
            errors.append("weight out of range: %r" % e)
        code = e.get("productCode", "")
        if e["kind"] == "SUPPLIES":
            if code and not HS.match(code):
                errors.append("bad HS code %r" % e)
            supply_sum[(e["toId"], code)] += e["weight"]
            codes_of[e["toId"]].add(code)
        elif e["kind"] == "OWNS":
            # Dated records of one pair replace each other: the largest.
            pair = (e["fromId"], e["toId"])
            owned_by[e["toId"]][pair] = max(owned_by[e["toId"]][pair],
                                            e["weight"])
        elif e["kind"] == "OPERATES":
            capacity[e["fromId"]] += e["weight"]
    errors += ["duplicate edge %r" % (k,) for k, n in keys.items() if n > 1]
    for (to, code), total in sorted(supply_sum.items()):
        if total > 1 + 1e-9:
            errors.append("dependency shares of %s for %r sum to %.3f" %
                          (to, code, total))
    for to, codes in sorted(codes_of.items()):
        goods = sorted(c for c in codes if c)
        for a in goods:
            for b in goods:
                if a != b and b.startswith(a):
                    errors.append("%s buys both %s and %s" % (to, a, b))
    for to, pairs in sorted(owned_by.items()):
        total = sum(pairs.values())
        if total > 1 + 1e-9:
            errors.append("ownership of %s sums to %.3f" % (to, total))
    for frm, total in sorted(capacity.items()):
        if total > 1 + 1e-9:
            errors.append("capacity shares of %s sum to %.3f" % (frm, total))
    for m in signals:
        s = m["upsertSignal"]
        ec = s.get("exportControl")
        for t in (ec or {}).get("targetIds", []):
            if t not in country:
                errors.append("signal target missing: " + t)
    for m in entities + edges + signals:
        record = next(iter(m.values()))
        source = record.get("source", "")
        if "[docs/sources.md" not in source and "assumption:" not in source:
            errors.append("source neither cites docs/sources.md nor says "
                          "'assumption:': %r" % record)
    return errors


def stats(entities, edges, signals):
    by_kind_country = Counter()
    for m in entities:
        e = m["upsertEntity"]
        by_kind_country[(e["kind"], e.get("country", ""))] += 1
    countries = sorted({c for k, c in by_kind_country if k != "PERSON"})
    lines = ["| country | companies | facilities |", "| --- | --- | --- |"]
    for c in countries:
        lines.append("| %s | %d | %d |" % (c, by_kind_country[("COMPANY", c)],
                                          by_kind_country[("FACILITY", c)]))
    lines.append("| **total** | %d | %d |" % (
        sum(n for (k, _), n in by_kind_country.items() if k == "COMPANY"),
        sum(n for (k, _), n in by_kind_country.items() if k == "FACILITY")))
    persons = sum(n for (k, _), n in by_kind_country.items() if k == "PERSON")
    if persons:
        lines.append("")
        lines.append("persons: %d" % persons)
    edge_kinds = Counter(m["upsertEdge"]["kind"] for m in edges)
    sig_kinds = Counter(next(k for k in m["upsertSignal"]
                             if k in ("exportControl", "tariff", "tension"))
                        for m in signals)
    lines.append("")
    lines.append("edges: " + ", ".join("%s %d" % kv
                                       for kv in sorted(edge_kinds.items())))
    lines.append("signals: " + ", ".join("%s %d" % kv
                                         for kv in sorted(sig_kinds.items())))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE,
                        help="directory to write the .jsonl files to")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out; write nothing")
    parser.add_argument("--stats", action="store_true",
                        help="print counts by kind and country")
    args = parser.parse_args(argv)

    entities, edges, signals = entity_records(), edge_records(), \
        signal_records()
    errors = check(entities, edges, signals)
    if errors:
        for e in errors:
            print("build_demo.py: " + e, file=sys.stderr)
        return 1
    if args.stats:
        print(stats(entities, edges, signals))
        return 0
    texts = dict(zip(FILES, (render(entities), render(edges),
                             render(signals))))
    if args.check:
        stale = []
        for name, text in texts.items():
            path = os.path.join(args.out, name)
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(name)
            except FileNotFoundError:
                stale.append(name)
        if stale:
            print("build_demo.py: out of date: %s (run python3 "
                  "data/demo/build_demo.py)" % ", ".join(stale),
                  file=sys.stderr)
            return 1
        return 0
    os.makedirs(args.out, exist_ok=True)
    for name, text in texts.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8",
                  newline="\n") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
