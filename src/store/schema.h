// tlaunchd's schema: the migration list applied at startup with
// store::migrate(db, tlaunchd_migrations()). Extend it only by appending.
#pragma once

#include <span>

#include "store/migrate.h"

namespace tl::store {

std::span<const Migration> tlaunchd_migrations();

}  // namespace tl::store
