// Private helpers shared by the fact extractors (secure_boot.cc, boot_apps.cc,
// linux_boot.cc, checks.cc, facts.cc). Not part of the public API.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventlog/event.h"
#include "eventlog/facts.h"

namespace tl::eventlog::detail {

inline EventRef event_ref(const Event& e) { return EventRef{e.index, e.offset, e.pcr}; }

inline Problem problem(const Event& e, std::string message) {
  return Problem{e.index, e.offset, e.pcr, std::move(message)};
}

std::map<crypto::HashAlg, std::string> digests_hex(const Event& e);

// Event data as text: a trailing NUL (C strings as GRUB and shim log them) is dropped.
std::string_view ascii_data(const Event& e);

// True when the data looks like UTF-16LE text (every odd byte zero, as in
// systemd's measurements) rather than an 8-bit string.
bool looks_utf16(ByteView data);

// Index of the first EV_SEPARATOR on PCR 7 in `events`, or events.size().
size_t pcr7_separator_position(std::span<const Event> events);

// Absolute file offset of an event's data, for error messages: the event
// header before it is 8 bytes + digests (a bare SHA-1 in legacy events and in
// the header event; count + (alg, digest)* in crypto-agile ones) + 4-byte size.
size_t data_offset(const Event& e, LogFormat format);

void extract_secure_boot(std::span<const Event> events, LogFormat format, SecureBootFacts& out,
                         std::vector<Problem>& problems);
std::vector<BootApplication> extract_boot_applications(std::span<const Event> events,
                                                       LogFormat format,
                                                       std::vector<Problem>& problems);
LinuxBootFacts extract_linux_boot(std::span<const Event> events);

// "(hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64" -> "5.14.0-130.el9.x86_64"; nullopt
// when the file name carries no version ("/vmlinuz", "vmlinuz-linux").
std::optional<std::string> kernel_version_from_path(std::string_view path);

}  // namespace tl::eventlog::detail
