// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title AccountLists
/// @notice Per-account lists of ids (a client's requests, a host's slots) with O(1) add and remove.
/// @dev Unlike an enumerable set, the list does not keep its own index: each item's 1-based position
/// lives in the item's record, in a storage word the marketplace writes anyway, which saves a fresh
/// storage slot per add. After `remove` the caller must store the returned position in the moved
/// item's record.
library AccountLists {
    /// @notice Appends `id`; returns its 1-based position.
    function add(bytes32[] storage list, bytes32 id) internal returns (uint32 position) {
        list.push(id);
        return uint32(list.length);
    }

    /// @notice Removes the item at 1-based `position` by moving the last item into its place.
    /// @return moved the id now at `position`, or zero when the removed item was the last one
    function remove(bytes32[] storage list, uint32 position) internal returns (bytes32 moved) {
        uint256 last = list.length;
        if (position != last) {
            moved = list[last - 1];
            list[position - 1] = moved;
        }
        list.pop();
    }
}
