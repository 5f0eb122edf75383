#include "swtpm_boot.h"

#include <set>
#include <string>

#include "eventlog/parsed_log.h"
#include "eventlog/verified_log.h"
#include "tpm/pcr_file.h"
#include "tpm/public_area.h"
#include "tpm/quote.h"
#include "tpm/swtpm.h"

namespace tl::test {

namespace {

constexpr const char* kNonce = "5ca1ab1e0102030405060708090a0b0c0d0e0f10";

}  // namespace

Result<policy::VerifiedMeasurements> measure_on_swtpm(const Bytes& log) {
  auto parsed = eventlog::ParsedLog::parse(log);
  if (!parsed) return with_context("parsing the log", parsed.take_error());
  if (parsed->startup_locality() != 0) return Error{"the log needs a non-zero startup locality"};
  std::string extend;
  std::set<uint32_t> pcrs;
  for (const eventlog::Event& e : parsed->events()) {
    if (e.type == eventlog::EV_NO_ACTION) continue;
    const ByteView d = e.digest(crypto::HashAlg::sha256);
    if (d.empty()) return Error{"event " + std::to_string(e.index) + " has no SHA-256 digest"};
    extend += " " + std::to_string(e.pcr) + ":sha256=" + to_hex(d);
    pcrs.insert(e.pcr);
  }
  std::string selection = "sha256:";
  for (uint32_t p : pcrs) selection += (selection.back() == ':' ? "" : ",") + std::to_string(p);

  // A fresh TPM per boot: PCRs 0-15 cannot be reset otherwise, and ECC keys
  // make the whole round trip take a fraction of a second.
  auto tpm = Swtpm::start();
  if (!tpm) return tpm.take_error();
  for (const std::string& cmd : {
           "tpm2_pcrextend" + extend,
           std::string("tpm2_createprimary -Q -C o -g sha256 -G ecc -c primary.ctx"),
           std::string("tpm2_create -Q -C primary.ctx -G ecc256:ecdsa-sha256:null -a "
                       "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -u ak.pub -r ak.priv"),
           "tpm2_load -Q -C primary.ctx -u ak.pub -r ak.priv -c ak.ctx && tpm2_quote -Q -c ak.ctx -l " + selection +
               " -q " + kNonce + " -m q.msg -s q.sig -o q.pcrs -g sha256",
       }) {
    if (auto r = (*tpm)->run(cmd); !r) return r.take_error();
  }
  auto ak = tpm::parse_tpm2b_public((*tpm)->read("ak.pub"));
  if (!ak) return with_context("ak.pub", ak.take_error());
  auto values = tpm::parse_pcr_file((*tpm)->read("q.pcrs"));
  if (!values) return with_context("q.pcrs", values.take_error());
  auto quote = tpm::verify_quote(*ak, (*tpm)->read("q.msg"), (*tpm)->read("q.sig"), *values, *from_hex(kNonce), {});
  if (!quote) return quote.take_error();
  auto vlog = eventlog::verify_log(std::move(*parsed), *quote);
  if (!vlog) return vlog.take_error();
  return policy::measure(*vlog);
}

}  // namespace tl::test
