// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./helpers/Test.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract TestTokenTest is Test {
    TestToken internal token;
    address internal constant OWNER = address(0xA11CE);
    uint256 internal constant LIMIT = 1_000 ether;

    function setUp() public {
        token = new TestToken(OWNER, LIMIT);
    }

    function testFuzz_ownerMintsAnyAmount(address to, uint256 amount) public {
        vm.assume(to != address(0));
        vm.prank(OWNER);
        token.mint(to, amount);
        assertEq(token.balanceOf(to), amount, "balance after mint");
        assertEq(token.totalSupply(), amount, "supply after mint");
    }

    function testFuzz_strangerCannotMint(address stranger, uint256 amount) public {
        vm.assume(stranger != OWNER);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        token.mint(stranger, amount);
    }

    function testFuzz_faucetRespectsLimit(address caller, uint256 amount) public {
        vm.assume(caller != address(0));
        if (amount > LIMIT) {
            vm.prank(caller);
            vm.expectRevert(abi.encodeWithSelector(TestToken.TestToken_FaucetLimitExceeded.selector, amount, LIMIT));
            token.faucet(amount);
            assertEq(token.balanceOf(caller), 0, "nothing minted over the limit");
        } else {
            vm.prank(caller);
            token.faucet(amount);
            assertEq(token.balanceOf(caller), amount, "faucet balance");
        }
    }
}

/// @notice Drives random mints, faucet draws and transfers for the invariant test below, keeping
/// its own ledger of what should exist.
contract TestTokenHandler is Test {
    TestToken public immutable token;
    address public immutable owner;
    uint256 public minted;
    address[] internal actors;

    constructor(TestToken token_, address owner_) {
        token = token_;
        owner = owner_;
        actors.push(address(0xB0B));
        actors.push(address(0xCA201));
        actors.push(address(0xD00D));
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function mint(uint256 actorSeed, uint256 amount) external {
        amount = bound(amount, 0, 1e30);
        address to = actors[actorSeed % actors.length];
        vm.prank(owner);
        token.mint(to, amount);
        minted += amount;
    }

    function faucet(uint256 actorSeed, uint256 amount) external {
        amount = bound(amount, 0, token.faucetLimit());
        vm.prank(actors[actorSeed % actors.length]);
        token.faucet(amount);
        minted += amount;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = actors[fromSeed % actors.length];
        address to = actors[toSeed % actors.length];
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(to, amount);
    }
}

contract TestTokenInvariantTest is Test {
    TestToken internal token;
    TestTokenHandler internal handler;

    function setUp() public {
        token = new TestToken(address(this), 1_000 ether);
        handler = new TestTokenHandler(token, address(this));
        targetContract(address(handler));
    }

    /// Supply is exactly what was minted, and the actors hold all of it.
    function invariant_supplyMatchesLedger() public view {
        assertEq(token.totalSupply(), handler.minted(), "supply vs minted");
        uint256 held;
        for (uint256 i = 0; i < handler.actorCount(); i++) held += token.balanceOf(handler.actorAt(i));
        assertEq(held, token.totalSupply(), "held vs supply");
    }
}
