#include "resolve/normalize_name.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class NormalizeNameTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<NameNormalizer>> n =
        NameNormalizer::Create();
    ASSERT_TRUE(n.ok()) << n.status();
    normalizer_ = n->release();
  }
  static void TearDownTestSuite() { delete normalizer_; }
  static NameNormalizer* normalizer_;
};
NameNormalizer* NormalizeNameTest::normalizer_ = nullptr;

struct Case {
  const char* script;
  const char* input;
  const char* tokens;       // space-joined
  const char* legal_forms;  // space-joined, "|" between forms
};

// Table-driven: one row a name, many scripts.
const Case kCases[] = {
    // Latin: legal forms at the end, punctuation, abbreviations.
    {"latin", "Huawei Technologies Co., Ltd.", "huawei technologies", "co|ltd"},
    {"latin", "HUAWEI TECHNOLOGIES CO LTD", "huawei technologies", "co|ltd"},
    {"latin", "Semiconductor Mfg Intl Corp",
     "semiconductor manufacturing international", "corp"},
    {"latin", "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORPORATION LIMITED",
     "semiconductor manufacturing international", "corp|ltd"},
    {"latin", "Siemens Aktiengesellschaft", "siemens", "ag"},
    {"latin", "Nestlé S.A.", "nestle", "sa"},
    {"latin", "Müller GmbH & Co. KG", "muller", "gmbh|co|kg"},
    {"latin", "The Boeing Company", "boeing", "co"},
    {"latin", "Petronas Sdn. Bhd.", "petronas", "sdn bhd"},
    {"latin", "DBS Bank Pte. Ltd.", "dbs bank", "pte|ltd"},
    {"latin", "Nokia Oyj", "nokia", "oyj"},
    {"latin", "Volvo AB", "volvo", "ab"},
    {"latin", "ENI S.p.A.", "eni", "spa"},
    {"latin", "ASML Holding N.V.", "asml holding", "nv"},
    {"latin", "Philips B.V.", "philips", "bv"},
    {"latin", "Toyota Motor Kabushiki Kaisha", "toyota motor", "kk"},
    {"latin", "OOO Romashka", "romashka", "llc"},
    {"latin", "PJSC Gazprom Neft", "gazprom neft", "pjsc"},
    {"latin", "Rosoboronexport JSC", "rosoboronexport", "jsc"},
    {"latin", "Joint Stock Company Rosoboronexport", "rosoboronexport", "jsc"},
    {"latin", "AERO-CARIBBEAN", "aero caribbean", ""},
    {"latin", "O'Neil & Sons, L.L.C.", "oneil and sons", "llc"},
    {"latin", "Company Limited", "company limited", ""},
    {"latin", "  ", "", ""},
    {"latin", "Shanghai Micro Electronics Equipment (Group) Co., Ltd.",
     "shanghai micro electronics equipment group", "co|ltd"},
    // Full-width and compatibility forms (NFKC).
    {"fullwidth", "ＳＯＮＹ　ＣＯＲＰ", "sony", "corp"},
    {"ligature", "ﬁnance corp", "finance", "corp"},
    {"german", "Straße AG", "strasse", "ag"},
    // Cyrillic: BGN/PCGN, legal forms in the original script.
    {"cyrillic", "ПАО «Газпром нефть»", "gazprom neft", "pjsc"},
    {"cyrillic", "ООО Ромашка", "romashka", "llc"},
    {"cyrillic", "АО «Рособоронэкспорт»", "rosoboroneksport", "jsc"},
    {"cyrillic", "ЗАО Лукойл", "lukoyl", "cjsc"},
    {"cyrillic", "Щукин Хабаровск", "shchukin khabarovsk", ""},
    {"cyrillic", "Общество с ограниченной ответственностью «Ромашка»",
     "romashka", "llc"},
    {"cyrillic", "Сбербанк России", "sberbank rossii", ""},
    // Han: pinyin syllables, legal forms cut before transliteration.
    {"han", "华为技术有限公司", "hua wei ji shu", "ltd"},
    {"han", "台灣積體電路製造股份有限公司", "tai wan ji ti dian lu zhi zao",
     "co|ltd"},
    {"han", "中芯国际集成电路制造有限公司",
     "zhong xin guo ji ji cheng dian lu zhi zao", "ltd"},
    // Japanese: kana romanise; kanji get Chinese readings (a known limit).
    {"kana", "トヨタ自動車株式会社", "toyota zi dong che", "kk"},
    {"kana", "ソニーグループ株式会社", "sonigurupu", "kk"},
    {"kanji", "株式会社東芝", "dong zhi", "kk"},
    // Hangul.
    {"hangul", "삼성전자 주식회사", "samseongjeonja", "co|ltd"},
    {"hangul", "주식회사 엘지화학", "eljihwahag", "co|ltd"},
    // Greek, Arabic, Hebrew.
    {"greek", "Ελληνικά Πετρέλαια Α.Ε.", "ellenika petrelaia", "sa"},
    {"arabic", "محمد علي", "mhmd ly", ""},
    {"arabic", "صدام حسين التكريتي", "sdam hsyn al tkryty", ""},
    {"cyrillic", "Александр Петров", "aleksandr petrov", ""},
    {"hebrew", "משה", "msh", ""},
    // Pinyin legal forms written out.
    {"pinyin", "Huawei Jishu Youxian Gongsi", "huawei jishu", "ltd"},
};

TEST_F(NormalizeNameTest, Table) {
  for (const Case& c : kCases) {
    NormalizedName n = normalizer_->Normalize(c.input);
    EXPECT_EQ(n.Key(), c.tokens) << c.script << ": " << c.input;
    EXPECT_EQ(absl::StrJoin(n.legal_forms, "|"), c.legal_forms)
        << c.script << ": " << c.input;
    EXPECT_EQ(n.phonetic.size(), n.tokens.size());
  }
}

TEST_F(NormalizeNameTest, Skeletons) {
  NormalizedName a = normalizer_->Normalize("صدام حسين التكريتي");
  NormalizedName b = normalizer_->Normalize("SADDAM HUSSEIN AL-TIKRITI");
  EXPECT_EQ(a.skeleton, b.skeleton);
  EXPECT_TRUE(a.transliterated);
  EXPECT_FALSE(b.transliterated);
  EXPECT_EQ(Skeleton("mohammed"), "mhmd");
  EXPECT_EQ(Skeleton("qasim"), "ksm");
  EXPECT_EQ(Skeleton("1234"), "1234");
}

TEST_F(NormalizeNameTest, HanFlag) {
  EXPECT_TRUE(normalizer_->Normalize("华为").han);
  EXPECT_FALSE(normalizer_->Normalize("Huawei").han);
  EXPECT_FALSE(normalizer_->Normalize("Газпром").han);
}

TEST_F(NormalizeNameTest, SameNameInTwoScriptsGivesTheSameTokens) {
  EXPECT_EQ(normalizer_->Normalize("Газпром").Key(),
            normalizer_->Normalize("GAZPROM").Key());
  EXPECT_EQ(normalizer_->Normalize("トヨタ").Key(),
            normalizer_->Normalize("Toyota").Key());
  EXPECT_EQ(normalizer_->Normalize("Ｔｏｙｏｔａ").Key(),
            normalizer_->Normalize("TOYOTA").Key());
}

TEST_F(NormalizeNameTest, InvalidUtf8DoesNotCrash) {
  NormalizedName n = normalizer_->Normalize("abc\xff\xfe def");
  EXPECT_THAT(n.tokens, ElementsAre("abc", "def"));
}

TEST_F(NormalizeNameTest, ConcurrentCallsAgree) {
  const std::string expected = normalizer_->Normalize("华为技术有限公司").Key();
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (normalizer_->Normalize("华为技术有限公司").Key() != expected) {
          ++bad[t];
        }
        if (normalizer_->Normalize("ПАО Сбербанк").Key() != "sberbank") {
          ++bad[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(bad, ElementsAre(0, 0, 0, 0));
  EXPECT_GE(normalizer_->PooledTransliterators(), 1u);
  EXPECT_LE(normalizer_->PooledTransliterators(), 5u);
}

struct NysiisCase {
  const char* in;
  const char* key;
};

TEST(NysiisTest, Table) {
  // Keys from the rules of Taft (1970) as Wikipedia's "NYSIIS" states them,
  // without truncation.
  const NysiisCase kCases[] = {
      {"macintosh", "MCANT"}, {"knight", "NAGT"},
      {"schmidt", "SNAD"},    {"phillips", "FALAP"},
      {"brown", "BRAN"},      {"johnson", "JANSAN"},
      {"williams", "WALAN"},  {"huawei", "H"},
      {"2904977", "2904977"}, {"", ""},
      {"lukoyl", "LACAYL"},   {"lukoil", "LACAL"},
  };
  for (const NysiisCase& c : kCases) {
    EXPECT_EQ(Nysiis(c.in), c.key) << c.in;
  }
}

TEST(LegalFormTest, Classes) {
  EXPECT_EQ(ClassOfLegalForm("co"), LegalFormClass::kGeneric);
  EXPECT_EQ(ClassOfLegalForm("ltd"), LegalFormClass::kLimited);
  EXPECT_EQ(ClassOfLegalForm("llc"), LegalFormClass::kLimited);
  EXPECT_EQ(ClassOfLegalForm("pjsc"), LegalFormClass::kStock);
  EXPECT_EQ(ClassOfLegalForm(""), LegalFormClass::kNone);
}

TEST(LegalFormTest, MatchLegalForm) {
  std::string canonical;
  EXPECT_EQ(MatchLegalForm({"sdn", "bhd"}, 0, &canonical), 2u);
  EXPECT_EQ(canonical, "sdn bhd");
  EXPECT_EQ(MatchLegalForm({"x", "s", "a"}, 1, &canonical), 2u);
  EXPECT_EQ(canonical, "sa");
  EXPECT_EQ(MatchLegalForm({"huawei"}, 0, &canonical), 0u);
}

}  // namespace
}  // namespace georisk::resolve
