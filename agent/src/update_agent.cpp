#include "ota/agent/update_agent.hpp"

namespace ota::agent {

#if OTA_AGENT_DELTA
bool UpdateAgent::Sink::write(std::span<const std::uint8_t> bytes) {
  status = writer_.write(bytes);
  return status.ok();
}
#else
// The full-image-only agent: record, slot writer and session, no applier.
static_assert(sizeof(UpdateAgent) < 1024, "a full-image-only UpdateAgent must stay under 1 KiB");
#endif

UpdateAgent::UpdateAgent(const AgentAreas& areas, const BootConfig& config, Verifier& verifier,
                         std::uint32_t hardware_id)
    : areas_(areas),
      config_(config),
      verifier_(verifier),
      hardware_id_(hardware_id),
      store_(areas.boot, config.scheme),
      log_(areas.boot, kProgressLogSector * areas.boot.sector_size()),
      writer_(log_)
#if OTA_AGENT_DELTA
      ,
      sink_(writer_)
#endif
{
}

AgentStatus UpdateAgent::provision(FlashArea& boot_area, const BootConfig& config, const FirmwareVersion& version,
                                   std::uint32_t security_counter, const SlotImage& image) {
  const std::optional<PackedVersion> packed = pack_version(version);
  if (!packed) return AgentStatus::failure(AgentError::Unsupported);
  StoredRecord stored;
  stored.record = factory_record(*packed, security_counter);
  stored.image[slot_index(SlotId::A)] = image;
  BootStore store(boot_area, config.scheme);
  return store.provision(stored);
}

FlashArea* UpdateAgent::slot_area(SlotId s) const {
  if (s == SlotId::A) return &areas_.slot_a;
  return is_single_partition(config_.scheme) ? nullptr : areas_.slot_b;
}

AgentStatus UpdateAgent::ensure_loaded() {
  if (needs_reboot_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (loaded_) return AgentStatus::success();
  if (!is_single_partition(config_.scheme) && areas_.slot_b == nullptr) {
    return AgentStatus::failure(AgentError::BadLayout);
  }
  StoredRecord loaded;
  const AgentStatus s = store_.load(loaded);
  if (!s.ok()) return s.error == AgentError::FlashFailed ? flash_failure(s) : s;
  stored_ = loaded;
  loaded_ = true;
  return s;
}

AgentStatus UpdateAgent::flash_failure(AgentStatus s) {
  needs_reboot_ = true;
  end_session();
  return s;
}

void UpdateAgent::end_session() {
  writer_.abandon();
  session_slot_.reset();
#if OTA_AGENT_DELTA
  patch_check_.reset();
  applier_.reset();
#endif
}

AgentStatus UpdateAgent::commit(const StoredRecord& next) {
  const AgentStatus s = store_.store(next);
  if (!s.ok()) return s.error == AgentError::FlashFailed ? flash_failure(s) : s;
  stored_ = next;
  return s;
}

AgentStatus UpdateAgent::apply_event(BootEvent event) {
  if (AgentStatus s = ensure_loaded(); !s.ok()) return s;
  const std::optional<BootRecord> next = apply(stored_.record, config_, event);
  if (!next) return AgentStatus::failure(AgentError::WrongState);
  if (*next == stored_.record) return AgentStatus::success();
  StoredRecord stored = stored_;
  stored.record = *next;
  return commit(stored);
}

BootOutcome UpdateAgent::boot() {
  needs_reboot_ = false;
  loaded_ = false;
  end_session();
  BootOutcome out{ensure_loaded(), BootAction{}};
  if (!out.status.ok()) return out;
  const BootStep step = ota::agent::boot(stored_.record, config_);
  if (step.record != stored_.record) {
    StoredRecord next = stored_;
    next.record = step.record;
    out.status = commit(next);
    if (!out.status.ok()) return out;
  }
  out.action = step.action;
  return out;
}

std::optional<SlotId> UpdateAgent::installing() const {
  if (!writer_.active()) return std::nullopt;
  return session_slot_;
}

AgentStatus UpdateAgent::offer(std::span<const std::uint8_t> signed_manifest) {
  if (AgentStatus s = ensure_loaded(); !s.ok()) return s;
  const BootRecord& rec = stored_.record;
  const std::optional<SlotId> target = install_target(rec, config_);
  if (!target) return AgentStatus::failure(AgentError::WrongState);
  FlashArea* slot = slot_area(*target);
  if (slot == nullptr) return AgentStatus::failure(AgentError::BadLayout);

  const DeviceFacts facts{hardware_id_, rec.min_security_counter, slot->size()};
  const ManifestVerification verification = verifier_.verify_manifest(signed_manifest, facts);
  if (!verification.accepted()) return AgentStatus::rejected(verification.verdict);
  const Manifest& m = verification.parse.manifest;

  const InstallKind kind = m.delta ? InstallKind::Delta : InstallKind::FullImage;
  std::optional<SlotId> base;
  if (kind == InstallKind::Delta) {
    if (!OTA_AGENT_DELTA) return AgentStatus::failure(AgentError::Unsupported);
    // The patch reads the confirmed image in the other slot; a single
    // partition has nowhere to put the result.
    if (is_single_partition(config_.scheme)) return AgentStatus::failure(AgentError::Unsupported);
    base = other_slot(*target);
    const Verdict v = check_delta_base(m, stored_.image[slot_index(*base)].sha256);
    if (v != Verdict::Accepted) return AgentStatus::rejected(v);
  }
  const std::optional<PackedVersion> packed = pack_version(m.version);
  if (!packed) return AgentStatus::failure(AgentError::Unsupported);

  end_session();
  const std::size_t t = slot_index(*target);
  const SlotImage image{m.image_size, m.image_sha256};
  const bool same_install = rec.state[t] == SlotState::Writing && stored_.image[t] == image &&
                            rec.version[t] == *packed && rec.security_counter[t] == m.security_counter;
  AgentStatus s;
  if (same_install) {
    s = writer_.resume(*slot, stored_.install_id, m.image_size, kind);
  } else {
    const std::optional<BootRecord> next_record = begin_install(rec, config_, *packed, m.security_counter);
    if (!next_record) return AgentStatus::failure(AgentError::WrongState);
    StoredRecord next = stored_;
    next.record = *next_record;
    next.image[t] = image;
    next.install_id = stored_.install_id + 1;
    if (s = commit(next); !s.ok()) return s;
    s = writer_.begin(*slot, next.install_id, m.image_size, kind);
  }
  if (!s.ok()) return s.error == AgentError::FlashFailed ? flash_failure(s) : s;

  session_slot_ = target;
  session_kind_ = kind;
#if OTA_AGENT_DELTA
  if (kind == InstallKind::Delta) {
    patch_check_.emplace(ImageDigestCheck::for_patch(m));
    applier_.emplace(*slot_area(*base), sink_);
  }
#endif
  return AgentStatus::success();
}

AgentStatus UpdateAgent::write(std::span<const std::uint8_t> chunk) {
  if (needs_reboot_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (!session_slot_ || session_kind_ != InstallKind::FullImage) return AgentStatus::failure(AgentError::WrongState);
  const AgentStatus s = writer_.write(chunk);
  return s.error == AgentError::FlashFailed ? flash_failure(s) : s;
}

AgentStatus UpdateAgent::fail_install(Verdict verdict) {
  end_session();
  const AgentStatus s = apply_event(BootEvent::WriteFailed);
  if (!s.ok()) return s;
  return AgentStatus::rejected(verdict);
}

#if OTA_AGENT_DELTA
AgentStatus UpdateAgent::delta_failure(DeltaStatus status) {
  switch (status) {
    case DeltaStatus::Ok: return AgentStatus::success();
    case DeltaStatus::SinkFailed:
      if (sink_.status.error == AgentError::FlashFailed) return flash_failure(sink_.status);
      return fail_install(Verdict::DigestMismatch);  // more bytes than the manifest's image
    case DeltaStatus::OldReadFailed: return flash_failure(AgentStatus::flash_failed(applier_->old_read_status()));
    case DeltaStatus::WrongBase: return fail_install(Verdict::DeltaBaseMismatch);
    default: return fail_install(Verdict::DigestMismatch);  // the signed patch does not build the image
  }
}

AgentStatus UpdateAgent::write_patch(std::span<const std::uint8_t> patch_chunk) {
  if (needs_reboot_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (!session_slot_ || session_kind_ != InstallKind::Delta || !applier_) {
    return AgentStatus::failure(AgentError::WrongState);
  }
  patch_check_->update(patch_chunk);
  return delta_failure(applier_->feed(patch_chunk));
}
#else
AgentStatus UpdateAgent::write_patch(std::span<const std::uint8_t>) {
  if (needs_reboot_) return AgentStatus::failure(AgentError::NeedsReboot);
  return AgentStatus::failure(AgentError::Unsupported);
}
#endif

AgentStatus UpdateAgent::finish() {
  if (needs_reboot_) return AgentStatus::failure(AgentError::NeedsReboot);
  if (!session_slot_) return AgentStatus::failure(AgentError::WrongState);
  const bool delta = session_kind_ == InstallKind::Delta;
#if OTA_AGENT_DELTA
  if (delta) {
    // This consumes the patch check: from here on every outcome but success
    // ends the session, so a second finish() can never run it again.
    if (patch_check_->finish() != Verdict::Accepted) return fail_install(Verdict::DigestMismatch);
    if (AgentStatus s = delta_failure(applier_->finish()); !s.ok()) return s;
  }
#endif
  // Reads the slot back: the verdict is about what the flash holds.
  const AgentStatus s = writer_.finish(stored_.image[slot_index(*session_slot_)].sha256);
  if (s.error == AgentError::FlashFailed) return flash_failure(s);
  if (s.error == AgentError::Rejected) return fail_install(s.verdict);
  if (s.error == AgentError::Incomplete) {
    if (!delta) return s;  // bytes missing: keep writing
    return fail_install(Verdict::DigestMismatch);  // the patch built less than the manifest's image
  }
  if (!s.ok()) {
    end_session();  // cannot happen with a sound writer; never leave a half-finished session
    return s;
  }
  end_session();
  return apply_event(BootEvent::WriteVerified);
}

AgentStatus UpdateAgent::set_pending() { return apply_event(BootEvent::SetPending); }
AgentStatus UpdateAgent::report_healthy() { return apply_event(BootEvent::ReportHealthy); }
AgentStatus UpdateAgent::report_unhealthy() { return apply_event(BootEvent::ReportUnhealthy); }

}  // namespace ota::agent
