// Boot applications: every EV_EFI_BOOT_SERVICES_APPLICATION on PCR 4, in log
// order (PFP section 10.4.4: the PE image hash, with a UEFI_IMAGE_LOAD_EVENT).
#include "eventlog/device_path.h"
#include "eventlog/facts_internal.h"

namespace tl::eventlog::detail {

std::vector<BootApplication> extract_boot_applications(std::span<const Event> events,
                                                       LogFormat format,
                                                       std::vector<Problem>& problems) {
  std::vector<BootApplication> apps;
  for (const Event& e : events) {
    if (e.pcr != 4 || e.type != EV_EFI_BOOT_SERVICES_APPLICATION) continue;
    BootApplication app;
    app.event = event_ref(e);
    app.digests = digests_hex(e);
    auto load = parse_image_load_event(e.data, data_offset(e, format));
    if (!load) {
      app.error = load.error().message;
    } else {
      app.image_length = load->image_length;
      auto text = device_path_to_text(load->device_path, load->device_path_offset);
      if (text) {
        app.device_path = std::move(*text);
      } else {
        app.error = text.error().message;
      }
    }
    if (!app.error.empty())
      problems.push_back(problem(e, "boot application: " + app.error));
    apps.push_back(std::move(app));
  }
  return apps;
}

}  // namespace tl::eventlog::detail
