// Updating a version's attributes, policy, key_ops and tags under Key Vault's
// rules: exportable never changes; an immutable policy never changes (not even
// to an identical one, and it cannot be removed: KeyUpdate has no removal, and
// an exportable key always keeps a policy); a policy only on exportable keys.
#include "keys/vault_internal.h"

namespace tl::keys {

using namespace detail;

namespace {

Status apply(KeyVersion& v, const KeyUpdate& u, int64_t now) {
  const std::string which = "key '" + v.name + "' version " + v.version;
  if (u.exportable && *u.exportable != v.attributes.exportable) {
    return Error{which + ": exportable is " + (v.attributes.exportable ? "true" : "false") +
                     " and can never change after a version is created",
                 "exportable-immutable"};
  }
  if (u.release_policy) {
    if (v.release_policy && v.release_policy->immutable) {
      // Key Vault refuses any change once immutable; setting the same policy
      // again is refused too, so "immutable" needs no comparison to hold.
      return Error{which + ": the release policy is immutable and cannot be changed or set again",
                   "release-policy-immutable"};
    }
    if (!v.attributes.exportable) {
      return Error{which + ": a release policy is only allowed on an exportable key", "policy-needs-exportable"};
    }
    v.release_policy = u.release_policy;
  }
  if (u.enabled) v.attributes.enabled = *u.enabled;
  if (u.not_before) v.attributes.not_before = *u.not_before;
  if (u.expires) v.attributes.expires = *u.expires;
  TL_KEYS_TRY(check_validity(v.attributes.not_before, v.attributes.expires));
  if (u.key_ops) {
    TL_KEYS_ASSIGN(ops, resolve_key_ops(v.spec.kind, *u.key_ops));
    v.key_ops = std::move(ops);
  }
  if (u.tags) {
    TL_KEYS_TRY(check_tags(*u.tags));
    v.tags = *u.tags;
  }
  v.attributes.updated = now;
  return {};
}

Result<KeyVersion> update_on(store::Database& db, const std::string& name, const std::string& version,
                             const KeyUpdate& u, int64_t now) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_live(state, name));
  // No version: the newest one, enabled or not (so a disabled newest version
  // can be enabled again through PATCH /keys/{name}).
  TL_KEYS_ASSIGN(found, version.empty() ? newest_version(db, name, false) : find_version(db, name, version));
  if (!found) return version_not_found(name, version);
  KeyVersion v = std::move(*found);
  TL_KEYS_TRY(apply(v, u, now));
  TL_KEYS_TRY(save_version(db, v));
  TL_KEYS_TRY(txn.commit());
  return v;
}

}  // namespace

Result<KeyVersion> Vault::update(const std::string& name, const std::string& version, const KeyUpdate& u,
                                 int64_t now) {
  std::lock_guard write(impl_->pool->write_mutex());
  auto db = impl_->pool->lease();
  return classified(update_on(*db, name, version, u, now));
}

}  // namespace tl::keys
