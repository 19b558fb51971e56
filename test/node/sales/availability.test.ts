import { expect } from "chai";
import {
  type Availability,
  findAvailability,
  mismatches,
  type SlotTerms,
} from "../../../node/src/sales/availability.js";

const base: Availability = {
  id: "a",
  totalSize: 1000n,
  freeSize: 1000n,
  duration: 3600n,
  minPricePerBytePerSecond: 10n,
  totalCollateral: 10_000n,
  freeCollateral: 10_000n,
  until: 0n,
  enabled: true,
};
const terms: SlotTerms = {
  slotSize: 1000n,
  duration: 3600n,
  pricePerBytePerSecond: 10n,
  collateralPerByte: 10n,
};
const now = 1_000_000n;

describe("availability matching", function () {
  it("accepts terms exactly at every limit", function () {
    expect(mismatches(base, terms, now)).to.deep.equal([]);
    expect(mismatches({ ...base, until: now + 3600n }, terms, now)).to.deep.equal([]);
  });

  it("names each limit a slot breaks", function () {
    const cases: [Partial<Availability>, Partial<SlotTerms>, string][] = [
      [{ enabled: false }, {}, "disabled"],
      [{ freeSize: 999n }, {}, "not-enough-space"],
      [{}, { duration: 3601n }, "duration-too-long"],
      [{}, { pricePerBytePerSecond: 9n }, "price-too-low"],
      [{ freeCollateral: 9_999n }, {}, "not-enough-collateral"],
      [{ until: now + 3599n }, {}, "ends-after-until"],
    ];
    for (const [availability, slot, reason] of cases) {
      expect(mismatches({ ...base, ...availability }, { ...terms, ...slot }, now)).to.deep.equal([
        reason,
      ]);
    }
  });

  it("reports every broken limit at once", function () {
    const reasons = mismatches(
      { ...base, enabled: false, freeSize: 0n },
      { ...terms, pricePerBytePerSecond: 1n },
      now,
    );
    expect(reasons).to.deep.equal(["disabled", "not-enough-space", "price-too-low"]);
  });

  it("picks the matching availability that leaves the least space unused", function () {
    const big = { ...base, id: "big", freeSize: 5000n, totalSize: 5000n };
    const tight = { ...base, id: "tight", freeSize: 1200n, totalSize: 1200n };
    const cheap = { ...base, id: "too-expensive", freeSize: 1000n, minPricePerBytePerSecond: 11n };
    expect(findAvailability([big, cheap, tight], terms, now)?.id).to.equal("tight");
    expect(findAvailability([cheap], terms, now)).to.equal(undefined);
  });
});
