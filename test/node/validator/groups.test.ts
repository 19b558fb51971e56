import { expect } from "chai";
import { groupOfSlot, watchesSlot } from "../../../node/src/validator/groups.js";
import { isHoldfastError } from "../../../node/src/errors.js";

describe("validator groups", function () {
  const id = (hex: string) => `0x${hex.padStart(64, "0")}`;

  it("read the slot id as a big-endian uint256, modulo the number of groups (as Codex)", function () {
    expect(groupOfSlot(id("01"), 2)).to.equal(1);
    expect(groupOfSlot(id("0100"), 3)).to.equal(256 % 3);
    // The first byte is the most significant.
    expect(groupOfSlot(`0x01${"00".repeat(31)}`, 7)).to.equal(Number(2n ** 248n % 7n));
    expect(groupOfSlot(`0x${"ff".repeat(32)}`, 65_536)).to.equal(65_535);
  });

  it("watch every slot without groups, and exactly one group's slots with them", function () {
    const slots = Array.from({ length: 40 }, (_, i) => id((i * 7919).toString(16)));
    expect(slots.every((s) => watchesSlot({ groups: undefined, index: 0 }, s))).to.equal(true);
    for (const s of slots) {
      const watchers = [0, 1, 2].filter((index) => watchesSlot({ groups: 3, index }, s));
      expect(watchers).to.deep.equal([groupOfSlot(s, 3)]);
    }
  });

  it("refuse a group count below one", function () {
    expect(() => groupOfSlot(id("01"), 0))
      .to.throw()
      .that.satisfies(isHoldfastError);
  });
});
