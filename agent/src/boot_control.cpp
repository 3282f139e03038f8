#include "ota/agent/boot_control.hpp"

#include <algorithm>

namespace ota::agent {

namespace {

bool guard_holds(TrialGuard g, std::uint8_t trial_boots_left) {
  switch (g) {
    case TrialGuard::Any: return true;
    case TrialGuard::BootsLeft: return trial_boots_left > 0;
    case TrialGuard::NoBootsLeft: return trial_boots_left == 0;
  }
  return false;
}

constexpr bool holds_image(SlotState s) {
  return s == SlotState::Confirmed || s == SlotState::Pending || s == SlotState::Trial;
}

bool is_confirmed_fallback(const BootRecord& r, SlotId s) {
  return r.state_of(s) == SlotState::Confirmed && r.security_counter[slot_index(s)] >= r.min_security_counter;
}

// Applies one row to `subject` (which the caller found with event_subject).
BootRecord apply_row(const BootRecord& r, const BootConfig& c, SlotId subject, const Transition& t) {
  BootRecord next = r;
  const std::size_t i = slot_index(subject);
  next.state[i] = t.to;
  if (has_effect(t.effects, Effect::Select)) {
    next.active = subject;
    next.trial_boots_left = effective_trial_limit(c);
  }
  if (has_effect(t.effects, Effect::ConsumeTrial) && next.trial_boots_left > 0) {
    next.trial_boots_left = static_cast<std::uint8_t>(next.trial_boots_left - 1);
  }
  if (has_effect(t.effects, Effect::Confirm)) {
    next.min_security_counter = std::max(next.min_security_counter, next.security_counter[i]);
    next.trial_boots_left = 0;
  }
  if (has_effect(t.effects, Effect::FallBack)) {
    if (!is_single_partition(c.scheme)) next.active = other_slot(subject);
    next.trial_boots_left = 0;
  }
  return next;
}

// The state the Boot rows see for `s`: an image below the anti-rollback
// minimum must never run, so it counts as Invalid.
SlotState state_for_boot(const BootRecord& r, SlotId s) {
  const SlotState st = r.state_of(s);
  if (holds_image(st) && r.security_counter[slot_index(s)] < r.min_security_counter) return SlotState::Invalid;
  return st;
}

}  // namespace

std::optional<Transition> find_transition(SlotState from, BootEvent event, std::uint8_t trial_boots_left) {
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.event == event && guard_holds(t.guard, trial_boots_left)) return t;
  }
  return std::nullopt;
}

std::optional<SlotId> install_target(const BootRecord& r, const BootConfig& c) {
  if (is_single_partition(c.scheme)) {
    // The running image is overwritten; a trial must end first.
    if (r.state_of(SlotId::A) == SlotState::Trial) return std::nullopt;
    return SlotId::A;
  }
  switch (r.state_of(r.active)) {
    case SlotState::Confirmed: return other_slot(r.active);
    case SlotState::Pending: return r.active;  // untried image: replace it, fall back meanwhile
    default: return std::nullopt;
  }
}

std::optional<SlotId> event_subject(const BootRecord& r, const BootConfig& c, BootEvent event) {
  switch (event) {
    case BootEvent::BeginInstall:
    case BootEvent::WriteVerified:
    case BootEvent::WriteFailed:
    case BootEvent::PowerLoss:
    case BootEvent::SetPending: return install_target(r, c);
    case BootEvent::Boot:
    case BootEvent::ReportHealthy:
    case BootEvent::ReportUnhealthy: return is_single_partition(c.scheme) ? SlotId::A : r.active;
  }
  return std::nullopt;
}

bool is_bootable(const BootRecord& r, SlotId s) {
  switch (state_for_boot(r, s)) {
    case SlotState::Confirmed:
    case SlotState::Pending: return true;
    case SlotState::Trial: return r.trial_boots_left > 0;
    default: return false;
  }
}

BootAction decide_boot(const BootRecord& r, const BootConfig& c) {
  const SlotId s = is_single_partition(c.scheme) ? SlotId::A : r.active;
  if (is_bootable(r, s)) {
    const bool confirmed = r.state_of(s) == SlotState::Confirmed;
    return BootAction{confirmed ? BootActionKind::BootNormal : BootActionKind::BootTrial, s};
  }
  switch (c.scheme) {
    case PartitionScheme::DualSlot: {
      const SlotId fallback = other_slot(s);
      if (is_confirmed_fallback(r, fallback)) return BootAction{BootActionKind::RollBack, fallback};
      return BootAction{BootActionKind::Bricked, SlotId::A};
    }
    case PartitionScheme::SingleWithRecovery: return BootAction{BootActionKind::BootRecovery, SlotId::A};
    case PartitionScheme::SingleNoRecovery: return BootAction{BootActionKind::Bricked, SlotId::A};
  }
  return BootAction{BootActionKind::Bricked, SlotId::A};
}

BootStep boot(const BootRecord& r, const BootConfig& c) {
  BootStep step{decide_boot(r, c), r};
  const SlotId s = is_single_partition(c.scheme) ? SlotId::A : r.active;
  const std::optional<Transition> t = find_transition(state_for_boot(r, s), BootEvent::Boot, r.trial_boots_left);
  if (t) step.record = apply_row(r, c, s, *t);
  return step;
}

std::optional<BootRecord> begin_install(const BootRecord& r, const BootConfig& c, PackedVersion version,
                                        std::uint32_t security_counter) {
  if (security_counter < r.min_security_counter) return std::nullopt;
  const std::optional<SlotId> target = install_target(r, c);
  if (!target) return std::nullopt;
  const std::optional<Transition> t = find_transition(r.state_of(*target), BootEvent::BeginInstall, r.trial_boots_left);
  if (!t) return std::nullopt;
  BootRecord next = apply_row(r, c, *target, *t);
  next.version[slot_index(*target)] = version;
  next.security_counter[slot_index(*target)] = security_counter;
  return next;
}

std::optional<BootRecord> apply(const BootRecord& r, const BootConfig& c, BootEvent event) {
  if (event == BootEvent::BeginInstall) return std::nullopt;
  if (event == BootEvent::Boot) return boot(r, c).record;
  const std::optional<SlotId> subject = event_subject(r, c, event);
  if (!subject) return std::nullopt;
  const std::optional<Transition> t = find_transition(r.state_of(*subject), event, r.trial_boots_left);
  if (!t) return std::nullopt;
  return apply_row(r, c, *subject, *t);
}

bool is_consistent(const BootRecord& r, const BootConfig& c) {
  for (SlotState s : r.state) {
    if (static_cast<std::size_t>(s) >= kSlotStateCount) return false;
  }
  if (static_cast<std::size_t>(r.active) >= kSlotCount) return false;
  if (r.trial_boots_left > effective_trial_limit(c)) return false;

  const SlotId a = r.active;
  const SlotState sa = r.state_of(a);
  const bool selected_trial = sa == SlotState::Pending || sa == SlotState::Trial;
  if (!selected_trial && r.trial_boots_left != 0) return false;

  if (is_single_partition(c.scheme)) {
    return a == SlotId::A && r.state_of(SlotId::B) == SlotState::Empty;
  }
  if (!holds_image(sa)) return false;
  if (r.security_counter[slot_index(a)] < r.min_security_counter) return false;
  const SlotId o = other_slot(a);
  if (r.state_of(o) == SlotState::Trial) return false;
  if (selected_trial) {
    if (!is_confirmed_fallback(r, o)) return false;
    if (sa == SlotState::Pending && r.trial_boots_left == 0) return false;
  }
  return true;
}

std::string_view to_string(SlotId s) {
  switch (s) {
    case SlotId::A: return "A";
    case SlotId::B: return "B";
  }
  return "unknown slot";
}

std::string_view to_string(SlotState s) {
  switch (s) {
    case SlotState::Empty: return "empty";
    case SlotState::Writing: return "writing";
    case SlotState::Pending: return "pending";
    case SlotState::Trial: return "trial";
    case SlotState::Confirmed: return "confirmed";
    case SlotState::Invalid: return "invalid";
  }
  return "unknown slot state";
}

std::string_view to_string(PartitionScheme s) {
  switch (s) {
    case PartitionScheme::DualSlot: return "A/B";
    case PartitionScheme::SingleWithRecovery: return "single partition + recovery";
    case PartitionScheme::SingleNoRecovery: return "single partition, no recovery";
  }
  return "unknown partition scheme";
}

std::string_view to_string(BootEvent e) {
  switch (e) {
    case BootEvent::BeginInstall: return "begin install";
    case BootEvent::WriteVerified: return "write verified";
    case BootEvent::WriteFailed: return "write failed";
    case BootEvent::PowerLoss: return "power loss";
    case BootEvent::SetPending: return "set pending";
    case BootEvent::Boot: return "boot";
    case BootEvent::ReportHealthy: return "report healthy";
    case BootEvent::ReportUnhealthy: return "report unhealthy";
  }
  return "unknown boot event";
}

std::string_view to_string(BootActionKind k) {
  switch (k) {
    case BootActionKind::BootNormal: return "boot";
    case BootActionKind::BootTrial: return "trial boot";
    case BootActionKind::RollBack: return "roll back";
    case BootActionKind::BootRecovery: return "boot recovery";
    case BootActionKind::Bricked: return "bricked";
  }
  return "unknown boot action";
}

std::string_view to_string(TrialGuard g) {
  switch (g) {
    case TrialGuard::Any: return "any";
    case TrialGuard::BootsLeft: return "trial boots left";
    case TrialGuard::NoBootsLeft: return "no trial boots left";
  }
  return "unknown guard";
}

}  // namespace ota::agent
