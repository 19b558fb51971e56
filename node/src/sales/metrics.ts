/** The host's Prometheus metrics, on the node's registry. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { SALE_STATES, type SaleRecord } from "./records.js";

/** States in which the slot's collateral is deposited on chain. */
const LOCKED_STATES = new Set(["filled", "proving", "payout"]);

export class SalesMetrics {
  readonly proofsSubmitted: Counter;
  readonly proofsMissed: Counter;
  readonly provingSeconds: Histogram<"kind">;
  readonly earned: Counter;

  constructor(registry: Registry, sales: () => readonly SaleRecord[]) {
    new Gauge({
      name: "holdfast_sales_slots",
      help: "Slots this host worked on, by the state of their sale",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        const counts = new Map<string, number>(SALE_STATES.map((s) => [s, 0]));
        for (const sale of sales()) counts.set(sale.state, (counts.get(sale.state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: "holdfast_sales_collateral_locked_tokens",
      help: "Collateral this host has deposited in slots it holds (token units)",
      registers: [registry],
      collect() {
        let locked = 0n;
        for (const sale of sales()) {
          if (sale.collateral === undefined) continue;
          // A filled slot whose data is being fetched again still holds its collateral.
          if (LOCKED_STATES.has(sale.state) || (sale.state === "downloading" && sale.filledAt))
            locked += sale.collateral;
        }
        this.set(Number(locked));
      },
    });
    this.proofsSubmitted = new Counter({
      name: "holdfast_sales_proofs_submitted_total",
      help: "Storage proofs this host submitted for its slots' periods",
      registers: [registry],
    });
    this.proofsMissed = new Counter({
      name: "holdfast_sales_proofs_missed_total",
      help: "Required storage proofs this host could not submit before their period ended",
      registers: [registry],
    });
    this.provingSeconds = new Histogram({
      name: "holdfast_sales_proving_seconds",
      help: "Time to make a storage proof (input and Groth16), by kind: initial (to fill) or period",
      labelNames: ["kind"] as const,
      buckets: [0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300],
      registers: [registry],
    });
    this.earned = new Counter({
      name: "holdfast_sales_earned_tokens_total",
      help: "What freed slots paid beyond the collateral deposited for them (token units)",
      registers: [registry],
    });
  }
}
