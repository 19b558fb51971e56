import { Counter, Gauge, type Registry } from "prom-client";

/** What a check of one slot for one period found (see Validator). */
export type CheckOutcome =
  | "marked"
  | "proven"
  | "not_required"
  | "in_downtime"
  | "not_ended"
  | "already_marked"
  | "slot_ended"
  | "timed_out"
  | "lost_race";

/** The validator's Prometheus metrics, under `holdfast_validator_`. */
export class ValidatorMetrics {
  readonly marked: Counter;
  readonly rewardsWithdrawn: Counter;
  readonly checks: Counter<"outcome">;
  readonly errors: Counter<"operation">;

  constructor(registry: Registry, watched: () => number) {
    const registers = [registry];
    new Gauge({
      name: "holdfast_validator_slots_watched",
      help: "Filled slots of this validator's group that it checks every period",
      registers,
      collect() {
        this.set(watched());
      },
    });
    this.marked = new Counter({
      name: "holdfast_validator_proofs_marked_missing_total",
      help: "Missed proofs this validator marked (markProofAsMissing transactions that succeeded)",
      registers,
    });
    this.rewardsWithdrawn = new Counter({
      name: "holdfast_validator_rewards_withdrawn_tokens_total",
      help: "Validator rewards withdrawn, in the token's smallest unit",
      registers,
    });
    this.checks = new Counter({
      name: "holdfast_validator_checks_total",
      help: "Slot checks after a period ended, by outcome",
      labelNames: ["outcome"] as const,
      registers,
    });
    this.errors = new Counter({
      name: "holdfast_validator_errors_total",
      help: "Validator failures by operation (events, check, mark, reward); retried on the next tick",
      labelNames: ["operation"] as const,
      registers,
    });
  }
}
