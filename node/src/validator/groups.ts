/**
 * How validators split the slots between them. A slot belongs to group
 * `uint256(slotId) mod groups`, the slot id read as a big-endian 256-bit number, as Codex's
 * validator does (codex-storage/nim-codex, codex/validation.nim, groupIndexForSlotId), so Holdfast
 * and Codex validators configured alike watch the same slots.
 */
import { HoldfastError } from "../errors.js";

/** Which validators watch which slots: every slot (groups undefined), or one group of `groups`. */
export interface ValidatorGroup {
  groups: number | undefined;
  index: number;
}

/** The group of `slotId` (a 32-byte hex id) among `groups` groups. */
export function groupOfSlot(slotId: string, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1)
    throw new HoldfastError("ERR_INVALID_ARGUMENT", `validator groups must be >= 1, not ${groups}`);
  return Number(BigInt(slotId) % BigInt(groups));
}

/** Whether a validator of `group` watches `slotId`. */
export function watchesSlot(group: ValidatorGroup, slotId: string): boolean {
  return group.groups === undefined || groupOfSlot(slotId, group.groups) === group.index;
}
