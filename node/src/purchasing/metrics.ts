/**
 * Prometheus metrics of the client role. Gauges are computed from the purchase records when
 * scraped, so they hold across restarts; the transition counter counts since the node started.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { PURCHASE_STATES, type PurchaseRecord, refunded } from "./purchase.js";

export class PurchasingMetrics {
  readonly transitions: Counter<"state">;

  constructor(registry: Registry, purchases: () => Iterable<PurchaseRecord>) {
    this.transitions = new Counter({
      name: "holdfast_purchases_total",
      help: "Purchases entering each state (pending, submitted, started, finished, cancelled, failed, errored)",
      labelNames: ["state"] as const,
      registers: [registry],
    });
    new Gauge({
      name: "holdfast_purchases",
      help: "Purchases by current state",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        const counts = new Map<string, number>(PURCHASE_STATES.map((s) => [s, 0]));
        for (const p of purchases()) counts.set(p.state, counts.get(p.state)! + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: "holdfast_purchases_paid_tokens",
      help: "Tokens escrowed by this node's storage requests (their full price)",
      registers: [registry],
      collect() {
        let sum = 0n;
        for (const p of purchases())
          if (p.state !== "pending" && p.state !== "errored") sum += BigInt(p.price);
        this.set(Number(sum));
      },
    });
    new Gauge({
      name: "holdfast_purchases_refunded_tokens",
      help: "Tokens the marketplace returned to this node for its ended requests",
      registers: [registry],
      collect() {
        let sum = 0n;
        for (const p of purchases()) sum += refunded(p);
        this.set(Number(sum));
      },
    });
  }
}
