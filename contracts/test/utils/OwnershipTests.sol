// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {OwnableNoValue} from "src/libraries/OwnableNoValue.sol";

/// @notice Fuzz tests of the owner's powers and of every way they change hands, for a contract
///         that inherits Solady's `Ownable` and runs behind a TransparentUpgradeableProxy:
///         `transferOwnership` (one step), the two-step handover (`requestOwnershipHandover` by
///         the new owner, `completeOwnershipHandover` by the owner within 48 hours,
///         `cancelOwnershipHandover`) and `renounceOwnership`. The owner (the timelock in
///         production) replaces the batcher, the proposer and the dispute game, so whoever
///         holds it holds the rollup: these tests check that only the owner hands it on, only
///         to an account that asked (handover) or that it named (transfer), that a handover
///         cannot be completed twice, late or by anyone else, and that the previous owner loses
///         every power at once.
/// @dev    A concrete test sets `owned` and `initialOwner` in its `setUp` and implements `_act` and
///         `_acted` with one owner-only setter of its contract.
abstract contract OwnershipTests is Test {
    event OwnershipTransferred(address indexed oldOwner, address indexed newOwner);
    event OwnershipHandoverRequested(address indexed pendingOwner);
    event OwnershipHandoverCanceled(address indexed pendingOwner);

    /// @dev How long a handover request stays valid (Solady's `_ownershipHandoverValidFor`).
    uint256 internal constant HANDOVER_VALID_FOR = 48 hours;

    /// @dev The contract under test (its proxy).
    Ownable internal owned;

    /// @dev Its owner after `setUp`, before any test changes it.
    address internal initialOwner;

    /// @dev Calls the contract's owner-only setter as `caller` with the non-zero `value`.
    function _act(address caller, address value) internal virtual;

    /// @dev What that setter last set.
    function _acted() internal view virtual returns (address);

    // ------------------------------------------------------------------ helpers

    /// @dev Excludes the accounts a fuzzed caller cannot be: the proxy's admin (the proxy never
    ///      forwards its calls), the zero address (the owner slot of a renounced contract) and
    ///      the contract itself (dealt the value it must refuse, it would seem to keep it).
    function _assumeCaller(address caller) internal view {
        vm.assume(caller != address(0) && caller != Proxies.adminOf(address(owned)) && caller != address(owned));
    }

    /// @dev A non-zero setter argument that differs from the current value.
    function _freshValue(address who) internal view returns (address value) {
        value = address(uint160(uint256(keccak256(abi.encode("value", who, _acted())))));
    }

    /// @dev `who` uses an owner power, and it takes effect.
    function _assertCanAct(address who) internal {
        address value = _freshValue(who);
        _act(who, value);
        assertEq(_acted(), value, "the initialOwner could not use its power");
    }

    /// @dev `who` tries an owner power and is refused; nothing changes.
    function _assertCannotAct(address who) internal {
        address before = _acted();
        address value = _freshValue(who);
        vm.expectRevert(Ownable.Unauthorized.selector);
        _act(who, value);
        assertEq(_acted(), before, "a refused call changed state");
    }

    /// @dev `pending` asks for the ownership.
    function _request(address pending) internal {
        vm.prank(pending);
        owned.requestOwnershipHandover();
    }

    // ------------------------------------------------------------------ transferOwnership

    /// @dev The owner names any account: it owns at once, with every power, and the previous
    ///      owner has none left.
    function testFuzz_transferOwnership_succeeds(address newOwner) public {
        _assumeCaller(newOwner);
        vm.expectEmit(address(owned));
        emit OwnershipTransferred(initialOwner, newOwner);
        vm.prank(initialOwner);
        owned.transferOwnership(newOwner);
        assertEq(owned.owner(), newOwner);
        _assertCanAct(newOwner);
        if (newOwner != initialOwner) {
            _assertCannotAct(initialOwner);
            vm.expectRevert(Ownable.Unauthorized.selector);
            vm.prank(initialOwner);
            owned.transferOwnership(initialOwner);
            assertEq(owned.owner(), newOwner);
        }
    }

    function testFuzz_transferOwnership_notOwner_reverts(address caller, address newOwner) public {
        _assumeCaller(caller);
        vm.assume(caller != initialOwner);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(caller);
        owned.transferOwnership(newOwner);
        assertEq(owned.owner(), initialOwner);
        _assertCannotAct(caller);
    }

    /// @dev Transferring to the zero address would renounce by mistake: refused.
    function test_transferOwnership_zeroAddress_reverts() public {
        vm.expectRevert(Ownable.NewOwnerIsZeroAddress.selector);
        vm.prank(initialOwner);
        owned.transferOwnership(address(0));
        assertEq(owned.owner(), initialOwner);
    }

    /// @dev An argument word with bits above the address (whose low 160 bits may be zero, or any
    ///      account) is not an address: the call fails and neither renounces nor transfers.
    function testFuzz_transferOwnership_dirtyAddress_reverts(uint96 upper, address lower) public {
        vm.assume(upper != 0);
        bytes32 word = bytes32((uint256(upper) << 160) | uint256(uint160(lower)));
        vm.prank(initialOwner);
        (bool ok,) = address(owned).call(abi.encodePacked(Ownable.transferOwnership.selector, word));
        assertFalse(ok, "a dirty address word was accepted");
        assertEq(owned.owner(), initialOwner);
    }

    // ------------------------------------------------------------------ renounceOwnership

    /// @dev After renouncing nobody holds any owner power, and no handover can ever complete.
    function testFuzz_renounceOwnership_succeeds(address anyone) public {
        _assumeCaller(anyone);
        vm.expectEmit(address(owned));
        emit OwnershipTransferred(initialOwner, address(0));
        vm.prank(initialOwner);
        owned.renounceOwnership();
        assertEq(owned.owner(), address(0));
        _assertCannotAct(initialOwner);
        _assertCannotAct(anyone);

        _request(anyone);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(anyone);
        owned.completeOwnershipHandover(anyone);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(anyone);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(anyone);
        owned.transferOwnership(anyone);
        assertEq(owned.owner(), address(0));
    }

    function testFuzz_renounceOwnership_notOwner_reverts(address caller) public {
        _assumeCaller(caller);
        vm.assume(caller != initialOwner);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(caller);
        owned.renounceOwnership();
        assertEq(owned.owner(), initialOwner);
        _assertCanAct(initialOwner);
    }

    // ------------------------------------------------------------------ two-step handover

    /// @dev Anyone may ask; asking gives nothing until the owner completes, and expires 48 hours
    ///      after the latest request.
    function testFuzz_requestOwnershipHandover_succeeds(address pending, uint256 start, uint256 again) public {
        _assumeCaller(pending);
        start = bound(start, block.timestamp, block.timestamp + 100 * 365 days);
        again = bound(again, 0, 10 * HANDOVER_VALID_FOR);
        vm.warp(start);
        vm.expectEmit(address(owned));
        emit OwnershipHandoverRequested(pending);
        _request(pending);
        assertEq(owned.ownershipHandoverExpiresAt(pending), start + HANDOVER_VALID_FOR);
        assertEq(owned.owner(), initialOwner);
        if (pending != initialOwner) _assertCannotAct(pending);
        _assertCanAct(initialOwner);

        // A new request restarts the window.
        vm.warp(start + again);
        _request(pending);
        assertEq(owned.ownershipHandoverExpiresAt(pending), start + again + HANDOVER_VALID_FOR);
    }

    /// @dev Within the window the owner completes the handover: the requester owns, the
    ///      request is used up (no replay) and the previous owner has no power left.
    function testFuzz_completeOwnershipHandover_succeeds(address pending, uint256 delay) public {
        _assumeCaller(pending);
        delay = bound(delay, 0, HANDOVER_VALID_FOR);
        _request(pending);
        vm.warp(block.timestamp + delay);
        vm.expectEmit(address(owned));
        emit OwnershipTransferred(initialOwner, pending);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), pending);
        assertEq(owned.ownershipHandoverExpiresAt(pending), 0);
        _assertCanAct(pending);

        // The request cannot be completed again, by the new owner or the old one.
        vm.expectRevert(Ownable.NoHandoverRequest.selector);
        vm.prank(pending);
        owned.completeOwnershipHandover(pending);
        if (pending != initialOwner) {
            _assertCannotAct(initialOwner);
            vm.expectRevert(Ownable.Unauthorized.selector);
            vm.prank(initialOwner);
            owned.completeOwnershipHandover(pending);
        }
        assertEq(owned.owner(), pending);
    }

    /// @dev A request older than 48 hours is dead: completing it reverts, and the requester must
    ///      ask again.
    function testFuzz_completeOwnershipHandover_expired_reverts(address pending, uint256 delay) public {
        _assumeCaller(pending);
        delay = bound(delay, HANDOVER_VALID_FOR + 1, 100 * 365 days);
        _request(pending);
        uint256 expiresAt = owned.ownershipHandoverExpiresAt(pending);
        vm.warp(block.timestamp + delay);
        vm.expectRevert(Ownable.NoHandoverRequest.selector);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), initialOwner);
        assertEq(owned.ownershipHandoverExpiresAt(pending), expiresAt);

        _request(pending);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), pending);
    }

    /// @dev The owner cannot hand the contract to an account that never asked.
    function testFuzz_completeOwnershipHandover_noRequest_reverts(address pending, address requester) public {
        _assumeCaller(requester);
        vm.assume(pending != requester);
        _request(requester);
        vm.expectRevert(Ownable.NoHandoverRequest.selector);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), initialOwner);
        assertEq(owned.ownershipHandoverExpiresAt(pending), 0);
    }

    /// @dev Only the owner completes a handover; in particular the requester cannot take the
    ///      ownership it asked for.
    function testFuzz_completeOwnershipHandover_notOwner_reverts(address caller, address pending, bool callerIsPending)
        public
    {
        _assumeCaller(pending);
        if (callerIsPending) caller = pending;
        _assumeCaller(caller);
        vm.assume(caller != initialOwner);
        _request(pending);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(caller);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), initialOwner);
        assertEq(owned.ownershipHandoverExpiresAt(pending), block.timestamp + HANDOVER_VALID_FOR);
    }

    /// @dev The requester withdraws its request before the owner completes it.
    function testFuzz_cancelOwnershipHandover_succeeds(address pending, uint256 delay) public {
        _assumeCaller(pending);
        delay = bound(delay, 0, HANDOVER_VALID_FOR);
        _request(pending);
        vm.warp(block.timestamp + delay);
        vm.expectEmit(address(owned));
        emit OwnershipHandoverCanceled(pending);
        vm.prank(pending);
        owned.cancelOwnershipHandover();
        assertEq(owned.ownershipHandoverExpiresAt(pending), 0);
        vm.expectRevert(Ownable.NoHandoverRequest.selector);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), initialOwner);
    }

    /// @dev Cancelling only ever clears the caller's own request: nobody else (the owner
    ///      included) can cancel a pending handover.
    function testFuzz_cancelOwnershipHandover_othersRequestKept_succeeds(address pending, address other) public {
        _assumeCaller(pending);
        _assumeCaller(other);
        vm.assume(other != pending);
        _request(pending);
        uint256 expiresAt = owned.ownershipHandoverExpiresAt(pending);
        vm.expectEmit(address(owned));
        emit OwnershipHandoverCanceled(other);
        vm.prank(other);
        owned.cancelOwnershipHandover();
        assertEq(owned.ownershipHandoverExpiresAt(pending), expiresAt);
        vm.prank(initialOwner);
        owned.completeOwnershipHandover(pending);
        assertEq(owned.owner(), pending);
    }

    // ------------------------------------------------------------------ value

    /// @dev Solady makes the ownership functions payable; ETH sent with one would stay in the
    ///      contract outside every balance it accounts for, so each refuses it and nothing
    ///      changes: not the owner, not a request, not the contract's balance.
    function testFuzz_ownershipFunctions_withValue_reverts(address pending, uint256 value, uint8 which) public {
        _assumeCaller(pending);
        vm.assume(pending != initialOwner);
        value = bound(value, 1, 1_000 ether);
        _request(pending);
        uint256 expiresAt = owned.ownershipHandoverExpiresAt(pending);
        uint256 balance = address(owned).balance;
        which = uint8(bound(which, 0, 4));
        address caller = which == 2 || which == 3 ? pending : initialOwner;
        vm.deal(caller, value);
        vm.prank(caller);
        vm.expectRevert(OwnableNoValue.Ownable_ValueNotAccepted.selector);
        if (which == 0) owned.transferOwnership{value: value}(pending);
        else if (which == 1) owned.renounceOwnership{value: value}();
        else if (which == 2) owned.requestOwnershipHandover{value: value}();
        else if (which == 3) owned.cancelOwnershipHandover{value: value}();
        else owned.completeOwnershipHandover{value: value}(pending);
        assertEq(owned.owner(), initialOwner, "the owner changed");
        assertEq(owned.ownershipHandoverExpiresAt(pending), expiresAt, "the request changed");
        assertEq(address(owned).balance, balance, "ETH stayed in the contract");
        assertEq(caller.balance, value, "the caller lost its ETH");
    }
}
