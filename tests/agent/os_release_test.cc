#include "agent/os_release.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace tl::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string err(std::string_view text) {
  auto r = parse_os_release(text);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.error().reason, "os-release-malformed");
  return r.error().message;
}

// Debian 12's file, verbatim.
constexpr std::string_view kDebian12 =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
    "NAME=\"Debian GNU/Linux\"\n"
    "VERSION_ID=\"12\"\n"
    "VERSION=\"12 (bookworm)\"\n"
    "VERSION_CODENAME=bookworm\n"
    "ID=debian\n"
    "HOME_URL=\"https://www.debian.org/\"\n"
    "SUPPORT_URL=\"https://www.debian.org/support\"\n"
    "BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

constexpr std::string_view kUbuntu2204 =
    "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n"
    "NAME=\"Ubuntu\"\n"
    "VERSION_ID=\"22.04\"\n"
    "VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n"
    "VERSION_CODENAME=jammy\n"
    "ID=ubuntu\n"
    "ID_LIKE=debian\n"
    "HOME_URL=\"https://www.ubuntu.com/\"\n"
    "UBUNTU_CODENAME=jammy\n";

TEST(OsRelease, Debian12) {
  auto r = parse_os_release(kDebian12);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "Debian GNU/Linux");
  EXPECT_EQ(r->id, "debian");
  EXPECT_EQ(r->version_id, "12");
  EXPECT_EQ(r->pretty_name, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(r->version, (OsVersion{12, 0}));
  EXPECT_EQ(r->fields.at("VERSION_CODENAME"), "bookworm");
}

TEST(OsRelease, Ubuntu2204MinorIsNumeric) {
  auto r = parse_os_release(kUbuntu2204);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "ubuntu");
  EXPECT_EQ(r->version_id, "22.04");
  EXPECT_EQ(r->version, (OsVersion{22, 4}));
}

TEST(OsRelease, QuotingEscapesCommentsBlanks) {
  auto r = parse_os_release(
      "# comment line\n"
      "\n"
      "   \t\n"
      "  # indented comment\n"
      "A='single $quoted \\ \"value\"'\n"
      "B=\"dq \\$HOME \\\"x\\\" \\\\ \\` \\n kept\"\n"
      "C=plain\\ escaped\n"
      "D=\n"
      "E=''\n"
      "F=https://example.com/a-b_c.d:8080/x\n"
      "  G=indented\r\n"
      "A=last-wins\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->fields.at("A"), "last-wins");
  EXPECT_EQ(r->fields.at("B"), "dq $HOME \"x\" \\ ` \\n kept");
  EXPECT_EQ(r->fields.at("C"), "plain escaped");
  EXPECT_EQ(r->fields.at("D"), "");
  EXPECT_EQ(r->fields.at("E"), "");
  EXPECT_EQ(r->fields.at("F"), "https://example.com/a-b_c.d:8080/x");
  EXPECT_EQ(r->fields.at("G"), "indented");
  auto single = parse_os_release("A='$x \\ \"y\"'\n");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->fields.at("A"), "$x \\ \"y\"");
}

TEST(OsRelease, SpecDefaultsWhenAbsent) {
  auto r = parse_os_release("");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "Linux");
  EXPECT_EQ(r->id, "linux");
  EXPECT_EQ(r->pretty_name, "Linux");
  EXPECT_EQ(r->version_id, "");
  EXPECT_FALSE(r->version.has_value());
  auto arch = parse_os_release("NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n");
  ASSERT_TRUE(arch.ok());
  EXPECT_FALSE(arch->version.has_value());
  auto no_newline = parse_os_release("ID=alpine\nVERSION_ID=3.19.1");
  ASSERT_TRUE(no_newline.ok());
  EXPECT_EQ(no_newline->version, (OsVersion{3, 19}));
}

TEST(OsRelease, VersionId) {
  EXPECT_EQ(parse_version_id("12"), (OsVersion{12, 0}));
  EXPECT_EQ(parse_version_id("22.04"), (OsVersion{22, 4}));
  EXPECT_EQ(parse_version_id("22.10"), (OsVersion{22, 10}));
  EXPECT_EQ(parse_version_id("9.3"), (OsVersion{9, 3}));
  EXPECT_EQ(parse_version_id("15.5.1"), (OsVersion{15, 5}));
  EXPECT_EQ(parse_version_id("9.3-beta"), (OsVersion{9, 3}));
  EXPECT_EQ(parse_version_id("8."), (OsVersion{8, 0}));
  EXPECT_EQ(parse_version_id("2023"), (OsVersion{2023, 0}));
  EXPECT_FALSE(parse_version_id("").has_value());
  EXPECT_FALSE(parse_version_id("rolling").has_value());
  EXPECT_FALSE(parse_version_id(".5").has_value());
  EXPECT_FALSE(parse_version_id("-1").has_value());
  EXPECT_FALSE(parse_version_id("9999999999").has_value());
  EXPECT_FALSE(parse_version_id("1.9999999999").has_value());
  EXPECT_EQ(parse_version_id("999999999.999999999"), (OsVersion{999999999, 999999999}));
}

TEST(OsRelease, MalformedLinesNameTheLine) {
  EXPECT_THAT(err("ID=debian\nthis is not an assignment\n"), HasSubstr("line 2: expected KEY=value"));
  EXPECT_THAT(err("=value\n"), HasSubstr("line 1: empty key"));
  EXPECT_THAT(err("\n\nID =debian\n"), HasSubstr("line 3: blank before '='"));
  EXPECT_THAT(err("ID= debian\n"), HasSubstr("line 1: blank after '='"));
  EXPECT_THAT(err("1ID=x\n"), HasSubstr("line 1: key must start with a letter"));
  EXPECT_THAT(err("I-D=x\n"), HasSubstr("line 1: key contains '-'"));
  EXPECT_THAT(err("export ID=x\n"), HasSubstr("line 1: key contains ' '"));
  EXPECT_THAT(err("NAME=\"Debian\n"), HasSubstr("line 1: unterminated double-quoted value"));
  EXPECT_THAT(err("NAME='Debian\n"), HasSubstr("line 1: unterminated single-quoted value"));
  EXPECT_THAT(err("NAME=\"a\"'b'\n"), HasSubstr("line 1: text after the closing quote"));
  EXPECT_THAT(err("NAME=\"a\" # c\n"), HasSubstr("text after the closing quote"));
  EXPECT_THAT(err("NAME=Debian GNU\n"), HasSubstr("line 1: unquoted value contains ' '"));
  EXPECT_THAT(err("NAME=$(reboot)\n"), HasSubstr("unquoted value contains '$'"));
  EXPECT_THAT(err("NAME=a;b\n"), HasSubstr("unquoted value contains ';'"));
  EXPECT_THAT(err("NAME=a`b`\n"), HasSubstr("unquoted value contains '`'"));
  EXPECT_THAT(err("NAME=\"$(reboot)\"\n"), HasSubstr("unescaped '$'"));
  EXPECT_THAT(err("NAME=\"a\\\"\n"), HasSubstr("unterminated"));
  EXPECT_THAT(err("NAME=abc\\\n"), HasSubstr("lone backslash"));
  EXPECT_THAT(err(std::string("NAME=\"a\0b\"\n", 11)), HasSubstr("line 1: control character at column 8"));
  EXPECT_THAT(err(std::string("A=1\nNAME=\"a\0b\"\n", 15)), HasSubstr("line 2: control character at column 8"));
  EXPECT_THAT(err("NAME=a\rb\n"), HasSubstr("control character"));
  EXPECT_THAT(err("NAME=\"\x1b[31m\"\n"), HasSubstr("control character"));
}

TEST(OsRelease, Oversized) {
  EXPECT_THAT(err(std::string(kMaxOsReleaseSize + 1, '#')), HasSubstr("more than 65536"));
  std::string many;
  while (many.size() < kMaxOsReleaseSize - 20) many += "K=v\n";
  EXPECT_TRUE(parse_os_release(many).ok());
}

TEST(OsRelease, LoadFromInjectedPath) {
  std::string tmpl = (fs::temp_directory_path() / "tl_os_release_XXXXXX").string();
  const int fd = ::mkstemp(tmpl.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  const fs::path p(tmpl);
  {
    std::ofstream(p, std::ios::binary) << kUbuntu2204;
  }
  auto r = load_os_release(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "ubuntu");
  {
    std::ofstream(p, std::ios::binary) << "ID=x\nbroken\n";
  }
  auto bad = load_os_release(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr(p.string() + ": line 2"));
  fs::remove(p);
  auto missing = load_os_release(p);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "os-release-unreadable");
}

// A temporary directory removed on scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tl_os_facts_XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// What the agent reports: the file, else the fallback when the file does not
// exist, else the spec's defaults with a warning, never an empty NAME.
TEST(OsFacts, FileFallbackAndDefaults) {
  TempDir d;
  ASSERT_FALSE(d.path.empty());
  const fs::path etc = d.path / "etc-os-release";
  const fs::path usr = d.path / "usr-lib-os-release";

  // Neither exists (a minimal initramfs guest).
  OsFacts none = os_facts(etc, usr);
  EXPECT_EQ(none.release.name, "Linux");
  EXPECT_EQ(none.release.id, "linux");
  EXPECT_FALSE(none.release.version.has_value());
  ASSERT_TRUE(none.warning.has_value());
  EXPECT_THAT(*none.warning, HasSubstr(etc.string() + " does not exist"));
  EXPECT_THAT(*none.warning, HasSubstr(usr.string()));
  EXPECT_THAT(*none.warning, HasSubstr("NAME \"Linux\""));
  // No fallback given: the same defaults, the warning names the one path.
  OsFacts no_fallback = os_facts(etc);
  EXPECT_EQ(no_fallback.release.name, "Linux");
  ASSERT_TRUE(no_fallback.warning.has_value());
  EXPECT_THAT(*no_fallback.warning, HasSubstr(etc.string()));

  // Only the fallback exists.
  std::ofstream(usr, std::ios::binary) << kUbuntu2204;
  OsFacts fallback = os_facts(etc, usr);
  EXPECT_FALSE(fallback.warning.has_value()) << *fallback.warning;
  EXPECT_EQ(fallback.release.name, "Ubuntu");
  ASSERT_TRUE(fallback.release.version.has_value());
  EXPECT_EQ(fallback.release.version->major, 22u);

  // The file exists: it wins, the fallback is not read.
  std::ofstream(etc, std::ios::binary) << kDebian12;
  OsFacts first = os_facts(etc, usr);
  EXPECT_FALSE(first.warning.has_value());
  EXPECT_EQ(first.release.name, "Debian GNU/Linux");

  // A malformed file is not skipped for the fallback (it exists: someone
  // wrote it): the defaults, with the line in the warning.
  std::ofstream(etc, std::ios::binary | std::ios::trunc) << "NAME=Debian\nbroken\n";
  OsFacts bad = os_facts(etc, usr);
  EXPECT_EQ(bad.release.name, "Linux");
  ASSERT_TRUE(bad.warning.has_value());
  EXPECT_THAT(*bad.warning, HasSubstr(etc.string() + ": line 2"));

  // A directory where the file should be: unreadable, the defaults.
  fs::remove(etc);
  fs::create_directory(etc);
  OsFacts dir = os_facts(etc, usr);
  EXPECT_EQ(dir.release.name, "Linux");
  EXPECT_TRUE(dir.warning.has_value());
}

TEST(OsRelease, ThisMachinesFileParses) {
  // Every supported host and VM image has one; it must parse as it is.
  auto r = load_os_release();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->id.empty());
}

}  // namespace
}  // namespace tl::agent
