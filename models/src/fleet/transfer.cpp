// transfer.cpp — the device lifecycle's downloads and writes: asking the
// delivery network, carrying out its decisions, streaming into the inactive
// slot (A/B) or writing the only one (single partition), and what the agent's
// verifier says of the bytes that arrived.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "ota/models/fleet/lifecycle.hpp"

namespace ota::models {

// P2P applies to the release as offered; recovery and rollback use the origin.
bool DeviceLifecycle::uses_peers(std::uint32_t d) const {
  const Device& dev = devices_[d];
  return classes_[dev.cls].source == Source::P2p && !dev.from_server && dev.revert != Revert::Installing &&
         !dev.recovery;
}

// 0 and 1 are the same bytes for a full release.
ArtifactKind DeviceLifecycle::artifact_kind(std::uint32_t d) const {
  if (reverting(d)) return ArtifactKind::Previous;
  if (devices_[d].recovery && art_.payload_bytes != art_.image_bytes) return ArtifactKind::FullImage;
  return ArtifactKind::Release;
}

std::uint32_t DeviceLifecycle::persisted(std::uint32_t d, std::uint64_t bytes) const {
  // The slot writer persists progress at sector boundaries.
  const std::uint32_t sector = classes_[devices_[d].cls].sector_bytes;
  return static_cast<std::uint32_t>(bytes / sector * sector);
}

// A device that may download now: the delivery network answers.
void DeviceLifecycle::request_download(sim::Simulator& sim, std::uint32_t d, double t) {
  DeliveryNetwork::Request q;
  q.device = d;
  q.cls = devices_[d].cls;
  q.via_peers = uses_peers(d);
  q.artifact = artifact_kind(d);
  q.link_bps = link_bps(d);
  q.since = t;
  carry_out(sim, d, t, network_.request(q, t));
}

void DeviceLifecycle::carry_out(sim::Simulator& sim, std::uint32_t d, double t,
                                const DeliveryNetwork::Decision& decision) {
  if (decision.seed) {
    ++recorder_.totals().p2p_seeds;
    devices_[d].from_server = true;
  }
  switch (decision.answer) {
    case DeliveryNetwork::Answer::Start:
      start_download(sim, d, t, decision.rate_bps, decision.since);
      return;
    case DeliveryNetwork::Answer::Queued:
      set_phase(d, Phase::Waiting);
      recorder_.observe_server(t, network_.origin());
      return;
    case DeliveryNetwork::Answer::Refused:
      ++recorder_.totals().refused_requests;
      fail_and_retry(sim, d, t);
      return;
    case DeliveryNetwork::Answer::AwaitFill:
      if (decision.fill) sim.schedule_at(at(decision.fill_done_at_s), fill_targets_ + *decision.fill, kEdgeFill);
      set_phase(d, Phase::Waiting);
      return;
    case DeliveryNetwork::Answer::AwaitPeer:
      set_phase(d, Phase::Waiting);
      sim.schedule_cancellable_at(at(decision.fallback_at_s), d, kP2pFallback);
      return;
  }
}

void DeviceLifecycle::on_edge_fill(sim::Simulator& sim, std::uint32_t index, double t) {
  const DeliveryNetwork::Fill fill = network_.fill_done(index, t);
  recorder_.cdn_fill(fill.bytes);
  for (const DeliveryNetwork::Waiter& w : fill.waiting)
    carry_out(sim, w.device, t, network_.request_at_edge(w.device, devices_[w.device].cls, link_bps(w.device), w.since));
}

// Waited too long for a peer: the origin.
void DeviceLifecycle::on_p2p_fallback(sim::Simulator& sim, std::uint32_t d, double t) {
  const std::optional<double> since = network_.fallback(d, devices_[d].cls);
  if (!since) return;
  ++recorder_.totals().p2p_fallbacks;
  devices_[d].from_server = true;
  DeliveryNetwork::Request q;
  q.device = d;
  q.cls = devices_[d].cls;
  q.artifact = artifact_kind(d);
  q.link_bps = link_bps(d);
  q.since = *since;  // its wait began with its request for a peer
  carry_out(sim, d, t, network_.request(q, t));
}

// Downloads the network started; a peer download replaces the device's
// fallback timer.
void DeviceLifecycle::start_all(sim::Simulator& sim, const std::vector<DeliveryNetwork::Started>& started, double t) {
  for (const DeliveryNetwork::Started& s : started) {
    // First the fallback timer: a start the agent refuses schedules the
    // device's next poll, which must survive.
    if (s.from_peer) sim.cancel_target(s.device);
    start_download(sim, s.device, t, s.rate_bps, s.since);
  }
}

// A P2P device verified the release: it serves its neighbours from now on.
void DeviceLifecycle::become_seeder(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  dev.from_server = false;
  if (classes_[dev.cls].source != Source::P2p || dev.seeder || reverting(d) || dev.recovery) return;
  dev.seeder = true;
  start_all(sim, network_.add_seeder(d, dev.cls), t);
}

// Starts a download granted at `rate` bit/s, asked for at `since`.
void DeviceLifecycle::start_download(sim::Simulator& sim, std::uint32_t d, double t, double rate, double since) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  battery_to(d, t);  // a device may have waited in the queue
  agent::BootRecord& rec = boot_[d];
  const bool streams = ci.partitioning == Partitioning::AB && !dev.recovery;
  if (streams) {
    // A/B streams into the inactive slot: the agent opens it for writing.
    const agent::SlotId target = agent::install_target(rec, ci.boot_config).value_or(agent::SlotId::B);
    if (rec.state_of(target) != agent::SlotState::Writing) {
      const auto next = begin_install(d);
      if (!next) {
        dev.pending_bytes = 0;  // nothing was sent: the peer (if any) spent nothing
        release_slot(sim, d, t);
        refuse(sim, d, t);
        return;
      }
      rec = *next;
      dev.progress = 0;
    }
  }
  set_phase(d, Phase::Downloading);
  const std::uint64_t total = payload_of(d);
  const double remaining = static_cast<double>(total - std::min<std::uint64_t>(dev.progress, total));
  const bool peer = network_.from_peer(d);  // from a neighbour over the mesh/LAN
  const double latency = peer ? 0.0 : ci.link->latency_s;
  const double rx_watts = peer ? s_.delivery.p2p->rx_watts : ci.link->rx_watts;
  // The flow's own cap: what the device receives at, and for A/B the rate its
  // flash takes the bytes (writing overlaps the download, so the slower of
  // the two sets the pace). The first byte comes `latency` after the start.
  double cap = rate;
  double flash_s = 0;  // writing what remains
  double watts = rx_watts;
  if (streams) {
    flash_s = ci.flash_s * remaining / static_cast<double>(total);
    if (ci.flash_s > 0) cap = std::min(cap, static_cast<double>(total) * 8.0 / ci.flash_s);
    watts += ci.write_watts;  // for brown-out: the worst case, both at once
  }
  sim::RandomStream r = stream(d);
  // What ends the flow: its last byte, or the link dropping it after
  // drop_bytes (counted in bytes, so it does not depend on the rate).
  double bytes = remaining;
  EventKind ends = kTransferEnd;
  if (ci.link->drop_per_mb > 0 && !peer) {
    const double drop_bytes = r.exponential(1e6 / ci.link->drop_per_mb);
    if (drop_bytes < remaining) {
      bytes = drop_bytes;
      ends = kTransferDrop;
    }
  }
  const Interruption cut = interruption(d, watts, r);
  keep(d, r);
  const auto source = peer ? RunRecorder::From::Peer
                      : ci.source == Source::Cdn ? RunRecorder::From::Edge
                                                 : RunRecorder::From::Origin;
  if (network_.begin_flow(d, dev.cls, bytes * 8.0, cap, t)) {
    // A shared capacity: the link says when the flow completes
    // (on_share_wake); a power cut or brown-out, timed now, may come first.
    shared_[d] = SharedTransfer{t, remaining, bytes, flash_s, latency, rx_watts, t + cut.after_s, ends, source};
    if (std::isfinite(cut.after_s)) sim.schedule_cancellable_at(at(t + cut.after_s), d, cut.kind);
    dev.pending_bytes = 0;
    dev.pending_j = 0;
    recorder_.observe_server(t, network_.origin());
    recorder_.download_started(source, t, t - since, std::nullopt);
    return;
  }
  // Nothing shared: the flow runs at its cap to the end.
  Interruption stop{latency + bytes * 8.0 / cap, ends};
  if (cut.after_s < stop.after_s) stop = cut;
  const double received =
      stop.kind == kTransferEnd ? remaining : std::clamp((stop.after_s - latency) * cap / 8.0, 0.0, bytes);
  dev.pending_bytes = static_cast<std::uint32_t>(received);
  dev.pending_j = static_cast<float>(rx_watts * stop.after_s + ci.write_watts * std::min(stop.after_s, flash_s));
  sim.schedule_at(at(t + stop.after_s), d, stop.kind);
  recorder_.observe_server(t, network_.origin());
  recorder_.download_started(source, t, t - since,
                             stop.kind == kTransferEnd ? std::optional<double>(stop.after_s) : std::nullopt);
}

// A shared flow's last byte left its link at t: the device's transfer ends
// `latency` later, unless a power cut or brown-out comes first.
void DeviceLifecycle::flow_done(sim::Simulator& sim, std::uint32_t d, double t) {
  const auto it = shared_.find(d);
  if (it == shared_.end()) throw std::logic_error("flow_done: device " + std::to_string(d) + " has no shared transfer");
  const SharedTransfer& x = it->second;
  const double end = t + x.latency_s;
  if (x.cut_at_s <= end) return;  // the cut comes first and finds the bytes received
  if (std::isfinite(x.cut_at_s)) sim.cancel_target(d);
  sim.schedule_at(at(end), d, x.ends);
}

// A link's wake-up: the flows that completed by now. A wake at another time
// than the one last scheduled for the link is stale (its rates changed).
void DeviceLifecycle::on_share_wake(sim::Simulator& sim, FairShare::LinkId link, double t, std::int64_t when_us) {
  std::int64_t& wake = network_.wake_us(link);
  if (wake != when_us) return;
  wake = -1;
  while (const auto d = network_.pop_completed(link, t)) flow_done(sim, *d, t);
}

// After every event: each link whose rates changed wakes at its next
// completion (one pending wake per link; an earlier one goes stale).
void DeviceLifecycle::schedule_wakes_slow(sim::Simulator& sim) {
  for (const FairShare::LinkId link : network_.touched()) {
    std::int64_t& wake = network_.wake_us(link);
    const double next = network_.next_completion(link);
    if (!(next < FairShare::kNever)) {
      wake = -1;
      continue;
    }
    const sim::SimTime when = std::max(sim.now(), at(next));
    if (wake == when.micros()) continue;
    wake = when.micros();
    sim.schedule_at(when, link_targets_ + link, kShareWake);
  }
  network_.clear_touched();
}

// A shared transfer ends at t (`completed`, or cut by a drop, power cut or
// brown-out): the bytes it received and the energy, as its rate ran; stops
// its flow if it still runs. Nothing for a transfer that was not shared.
void DeviceLifecycle::settle_shared(std::uint32_t d, double t, bool completed) {
  const auto it = shared_.find(d);
  if (it == shared_.end()) return;
  const SharedTransfer x = it->second;
  shared_.erase(it);
  const std::optional<double> bits = network_.end_flow(d, t);
  const double received = bits ? std::clamp(*bits / 8.0, 0.0, x.bytes) : x.bytes;
  const double elapsed = std::max(0.0, t - x.start_s);
  const double written_s = x.remaining > 0 ? x.flash_s * received / x.remaining : 0.0;
  Device& dev = devices_[d];
  dev.pending_bytes = static_cast<std::uint32_t>(received);
  dev.pending_j = static_cast<float>(x.rx_watts * elapsed +
                                     classes_[dev.cls].write_watts * std::min(elapsed, written_s));
  if (completed) recorder_.transfer_time(x.from, elapsed);
}

// Gives back `d`'s download slot (server or peer) and starts whoever it lets in.
void DeviceLifecycle::release_slot(sim::Simulator& sim, std::uint32_t d, double t) {
  const DeliveryNetwork::Release rel = network_.finish(d, devices_[d].cls);
  if (rel.peer) {
    const double bytes = static_cast<double>(devices_[d].pending_bytes);
    spend(*rel.peer, s_.delivery.p2p->tx_watts * bytes * 8.0 / rel.peer_bps);
  }
  start_all(sim, rel.started, t);
}

// The download ended one way or another: bytes and energy, the slot.
void DeviceLifecycle::end_transfer(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  recorder_.transfer(classes_[dev.cls], dev.pending_bytes, t, network_.from_peer(d));
  spend(d, dev.pending_j);
  dev.pending_j = 0;
  recorder_.download_ended();
  release_slot(sim, d, t);
  recorder_.observe_server(t, network_.origin());
}

void DeviceLifecycle::on_transfer_end(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  battery_to(d, t);
  const std::optional<std::uint32_t> hostile = network_.hostile_peer(d);
  settle_shared(d, t, true);
  const std::uint64_t received = dev.pending_bytes;
  const double received_j = dev.pending_j;
  end_transfer(sim, d, t);
  dev.progress = static_cast<std::uint32_t>(payload_of(d));
  // What arrived, and what the agent's verifier said of those bytes.
  sim::RandomStream r = stream(d);
  Variant v = Variant::Intact;
  const double u = r.uniform();
  if (u < s_.release.tamper_per_transfer) v = Variant::Tampered;
  else if (u < s_.release.tamper_per_transfer + s_.release.corruption_per_transfer) v = Variant::Corrupted;
  keep(d, r);
  // A hostile peer relays the genuine signed manifest (it cannot sign one)
  // with a modified image: the agent's digest check is what stops it.
  if (hostile) v = Variant::Corrupted;
  const agent::Verdict got = verdict(d, v);
  Totals& totals = recorder_.totals();
  const bool streams = ci.partitioning == Partitioning::AB && !dev.recovery;
  if (hostile) {
    if (got == agent::Verdict::Accepted) ++totals.tampered_installs;  // would be a security failure
    else if (got == agent::Verdict::DigestMismatch) ++totals.digest_rejections;
    else ++totals.signature_rejections;
    ++totals.p2p_rejected_transfers;
    totals.p2p_wasted_bytes += received;
    totals.p2p_wasted_energy_j += received_j;
    // The neighbourhood stops using the peer; the device asks again at once.
    network_.ban(d, dev.cls, *hostile);
    if (streams)
      boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::WriteFailed), d, "WriteFailed");
    dev.progress = 0;
    set_phase(d, Phase::Idle);
    schedule_poll(sim, d, t);
    return;
  }
  if (got != agent::Verdict::Accepted) {
    if (got == agent::Verdict::DigestMismatch) ++totals.digest_rejections;
    else ++totals.signature_rejections;
    if (streams)
      boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::WriteFailed), d, "WriteFailed");
    dev.progress = 0;
    fail_and_retry(sim, d, t);
    return;
  }
  dev.attempts = 0;
  become_seeder(sim, d, t);
  if (ci.partitioning == Partitioning::AB) {
    stage_verified(d);
    start_boot(sim, d, t);
    return;
  }
  start_write(sim, d, t);
}

std::optional<agent::BootRecord> DeviceLifecycle::begin_install(std::uint32_t d) const {
  const bool back = reverting(d);
  return agent::begin_install(boot_[d], classes_[devices_[d].cls].boot_config, back ? from_version_ : to_version_,
                              back ? s_.release.from_security_counter : s_.release.to_security_counter);
}

void DeviceLifecycle::stage_verified(std::uint32_t d) {
  const agent::BootConfig& config = classes_[devices_[d].cls].boot_config;
  agent::BootRecord rec = boot_[d];
  rec = must(agent::apply(rec, config, agent::BootEvent::WriteVerified), d, "WriteVerified");
  rec = must(agent::apply(rec, config, agent::BootEvent::SetPending), d, "SetPending");
  boot_[d] = rec;
}

// Single partition: the staged image overwrites the only slot. From the first
// erase until the last write the device has nothing to boot but recovery.
void DeviceLifecycle::start_write(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  agent::BootRecord& rec = boot_[d];
  if (rec.state_of(agent::SlotId::A) != agent::SlotState::Writing) {
    const auto next = begin_install(d);
    if (!next) {
      refuse(sim, d, t);
      return;
    }
    rec = *next;
  }
  set_phase(d, Phase::Installing);
  sim::RandomStream r = stream(d);
  Interruption stop{ci.flash_s, kWriteEnd};
  const Interruption cut = interruption(d, ci.write_watts, r);
  if (cut.after_s < stop.after_s) stop = cut;
  keep(d, r);
  dev.pending_j = static_cast<float>(ci.write_watts * stop.after_s);
  sim.schedule_at(at(t + stop.after_s), d, stop.kind);
}

void DeviceLifecycle::on_write_end(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  battery_to(d, t);
  spend(d, dev.pending_j);
  dev.pending_j = 0;
  stage_verified(d);
  dev.recovery = false;
  start_boot(sim, d, t);
}

void DeviceLifecycle::on_transfer_drop(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  battery_to(d, t);
  settle_shared(d, t, false);
  const std::uint64_t got = dev.pending_bytes;
  end_transfer(sim, d, t);
  dev.progress = persisted(d, dev.progress + got);
  ++recorder_.totals().transfer_drops;
  fail_and_retry(sim, d, t);
}

void DeviceLifecycle::on_power_loss(sim::Simulator& sim, std::uint32_t d, double t) {
  Device& dev = devices_[d];
  const ClassInfo& ci = classes_[dev.cls];
  battery_to(d, t);
  ++recorder_.totals().power_losses;
  if (dev.phase == Phase::Downloading) {
    settle_shared(d, t, false);
    const std::uint64_t got = dev.pending_bytes;
    end_transfer(sim, d, t);
    dev.progress = persisted(d, dev.progress + got);
    if (ci.partitioning == Partitioning::AB && !dev.recovery)
      boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::PowerLoss), d, "PowerLoss");
  } else if (dev.phase == Phase::Installing) {
    spend(d, dev.pending_j);
    dev.pending_j = 0;
    boot_[d] = must(agent::apply(boot_[d], ci.boot_config, agent::BootEvent::PowerLoss), d, "PowerLoss");
  }
  if (ci.battery && dev.soc <= ci.battery->brownout_soc) {
    set_phase(d, Phase::Dead);
    set_version(d, RunningVersion::None);
    retire(sim, d, t);
    return;
  }
  // Power comes back: the bootloader decides what runs.
  start_boot(sim, d, t);
}

}  // namespace ota::models
