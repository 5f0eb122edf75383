// Fuzzes the decoders behind the event-log facts directly, so mutations reach
// them without first having to form a valid log. The first byte picks:
//   0      the whole input is a log: ParsedLog::parse + inspect_facts (real logs
//          start with PCR 0, so the vector seeds land here)
//   1      UEFI_VARIABLE_DATA, then its VariableData as a signature database
//   2      EFI_SIGNATURE_LIST sequence + entry decoding (X.509 included)
//   3      device path to text
//   4      UEFI_IMAGE_LOAD_EVENT + its device path
//   5..    UTF-16LE to UTF-8
// Beyond the sanitizers it checks the decoders' promises: views stay inside the
// input and counts are bounded by the bytes present.
#include <cstddef>
#include <cstdint>

#include "eventlog/device_path.h"
#include "eventlog/efi_signature_list.h"
#include "eventlog/facts.h"
#include "eventlog/parsed_log.h"
#include "eventlog/secure_boot.h"
#include "eventlog/uefi_variable.h"
#include "fuzz_support.h"

using tl::fuzz::check;
using tl::fuzz::inside;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tl::eventlog;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const tl::ByteView in(data + 1, size - 1);
  switch (selector) {
    case 0: {
      auto log = ParsedLog::parse(tl::Bytes(data, data + size));
      if (!log.ok()) return 0;
      const BootFacts f = inspect_facts(*log);
      for (const auto& p : f.problems) check(p.event < log->events().size() && !p.message.empty());
      check(f.boot_applications.size() <= log->events().size());
      return 0;
    }
    case 1: {
      auto v = parse_uefi_variable(in, 7);
      if (!v.ok()) {
        check(!v.error().message.empty());
        return 0;
      }
      check(inside(in, v->data) && inside(in, v->name_bytes));
      check(v->data_offset >= 7 + 32 && v->data_offset + v->data.size() + v->trailing == 7 + in.size());
      const SignatureDatabase db = decode_signature_database(v->data, v->data_offset);
      check(db.error.empty() || db.entries.empty());
      return 0;
    }
    case 2: {
      auto lists = parse_signature_lists(in, 0);
      if (!lists.ok()) return 0;
      size_t bytes = 0;
      for (const auto& l : *lists) {
        check(inside(in, l.header));
        for (const auto& s : l.signatures) {
          check(inside(in, s.data));
          bytes += 16 + s.data.size();
          (void)decode_signature_entry(l.type, s.owner, s.data);
        }
      }
      check(bytes <= in.size());
      return 0;
    }
    case 3: {
      auto text = device_path_to_text(in, 0);
      if (text.ok()) check(text->size() <= 8 * in.size() + 64);  // rendering is linear in the input
      return 0;
    }
    case 4: {
      auto ev = parse_image_load_event(in, 0);
      if (!ev.ok()) return 0;
      check(inside(in, ev->device_path));
      (void)device_path_to_text(ev->device_path, ev->device_path_offset);
      return 0;
    }
    default: {
      const std::string s = utf16le_to_utf8(in);
      check(s.size() <= 2 * in.size() + 3);  // at most 4 UTF-8 bytes per 2 input bytes
      return 0;
    }
  }
}
