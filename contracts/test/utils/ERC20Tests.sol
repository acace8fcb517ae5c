// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {ERC20} from "solady/tokens/ERC20.sol";

/// @notice Fuzz tests of the ERC-20 functions every holder calls — `transfer`, `approve`,
///         `transferFrom` — and of EIP-2612 `permit`, for the project's Solady-based tokens.
///         They check that tokens only move from a holder that sent them or allowed them,
///         never more than its balance or the allowance, that the supply never changes with a
///         transfer, and that a permit moves an allowance only when the holder signed exactly
///         that permit, for this token on this chain, and only once.
/// @dev    A concrete test sets `token` in its `setUp` and implements `_mintTo` and
///         `_domainName` (the EIP-712 domain name it expects: the token's name).
abstract contract ERC20Tests is Test {
    event Transfer(address indexed from, address indexed to, uint256 amount);
    event Approval(address indexed owner, address indexed spender, uint256 amount);

    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @dev The canonical Permit2 contract, to which Solady tokens may grant an implicit
    ///      infinite allowance (ours do not).
    address internal constant PERMIT2 = 0x000000000022D473030F116dDEE9F6B43aC78BA3;

    /// @dev The order of secp256k1: private keys are in [1, N - 1]; `s` and `N - s` are the two
    ///      halves of a malleable signature.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @dev The token under test.
    ERC20 internal token;

    /// @dev Mints `amount` of `token` to `to` the way the token allows (the bridge, a faucet).
    function _mintTo(address to, uint256 amount) internal virtual;

    /// @dev The name in the token's EIP-712 domain.
    function _domainName() internal view virtual returns (string memory);

    // ------------------------------------------------------------------ helpers

    /// @dev A permit's fields.
    struct Permit {
        address owner;
        address spender;
        uint256 value;
        uint256 nonce;
        uint256 deadline;
    }

    /// @dev The EIP-712 domain separator of `name`, `version`, `chainId` and `verifyingContract`.
    function _domain(string memory name, string memory version, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifyingContract)
        );
    }

    /// @dev The token's own domain, computed here (not read from the token).
    function _tokenDomain() internal view returns (bytes32) {
        return _domain(_domainName(), "1", block.chainid, address(token));
    }

    /// @dev The EIP-712 digest of `p` under `domain`.
    function _digest(bytes32 domain, Permit memory p) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                "\x19\x01",
                domain,
                keccak256(abi.encode(PERMIT_TYPEHASH, p.owner, p.spender, p.value, p.nonce, p.deadline))
            )
        );
    }

    /// @dev `key` signs `p` for `domain`.
    function _sign(uint256 key, bytes32 domain, Permit memory p) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        return vm.sign(key, _digest(domain, p));
    }

    /// @dev A valid private key from any fuzzed word.
    function _key(uint256 seed) internal pure returns (uint256) {
        return bound(seed, 1, SECP256K1_N - 1);
    }

    /// @dev Submits `p` with the signature (`v`, `r`, `s`) as `relayer`.
    function _permit(address relayer, Permit memory p, uint8 v, bytes32 r, bytes32 s) internal {
        vm.prank(relayer);
        token.permit(p.owner, p.spender, p.value, p.deadline, v, r, s);
    }

    /// @dev Submits `p` signed (`v`, `r`, `s`) and expects `InvalidPermit`, with nothing changed.
    function _permitInvalid(Permit memory p, uint8 v, bytes32 r, bytes32 s) internal {
        uint256 nonce = token.nonces(p.owner);
        uint256 allowance = token.allowance(p.owner, p.spender);
        vm.expectRevert(ERC20.InvalidPermit.selector);
        token.permit(p.owner, p.spender, p.value, p.deadline, v, r, s);
        assertEq(token.nonces(p.owner), nonce, "a refused permit used a nonce");
        assertEq(token.allowance(p.owner, p.spender), allowance, "a refused permit changed an allowance");
    }

    // ------------------------------------------------------------------ transfer

    function testFuzz_transfer_succeeds(address from, address to, uint256 balance, uint256 toBalance, uint256 amount)
        public
    {
        toBalance = bound(toBalance, 0, type(uint256).max - balance);
        amount = bound(amount, 0, balance);
        _mintTo(from, balance);
        if (to != from) _mintTo(to, toBalance);
        uint256 supply = token.totalSupply();
        uint256 toBefore = token.balanceOf(to);

        vm.expectEmit(address(token));
        emit Transfer(from, to, amount);
        vm.prank(from);
        assertTrue(token.transfer(to, amount));

        if (to == from) {
            assertEq(token.balanceOf(from), balance);
        } else {
            assertEq(token.balanceOf(from), balance - amount);
            assertEq(token.balanceOf(to), toBefore + amount);
        }
        assertEq(token.totalSupply(), supply, "a transfer changed the supply");
    }

    function testFuzz_transfer_insufficientBalance_reverts(address from, address to, uint256 balance, uint256 amount)
        public
    {
        balance = bound(balance, 0, type(uint256).max - 1);
        amount = bound(amount, balance + 1, type(uint256).max);
        _mintTo(from, balance);
        vm.expectRevert(ERC20.InsufficientBalance.selector);
        vm.prank(from);
        token.transfer(to, amount);
        assertEq(token.balanceOf(from), balance);
        if (to != from) assertEq(token.balanceOf(to), 0);
    }

    // ------------------------------------------------------------------ approve

    /// @dev An approval sets the allowance (it does not add to it) and moves no tokens.
    function testFuzz_approve_succeeds(address owner, address spender, uint256 first, uint256 second, uint256 balance)
        public
    {
        _mintTo(owner, balance);
        vm.expectEmit(address(token));
        emit Approval(owner, spender, first);
        vm.prank(owner);
        assertTrue(token.approve(spender, first));
        assertEq(token.allowance(owner, spender), first);

        vm.expectEmit(address(token));
        emit Approval(owner, spender, second);
        vm.prank(owner);
        assertTrue(token.approve(spender, second));
        assertEq(token.allowance(owner, spender), second);
        assertEq(token.balanceOf(owner), balance);
        if (spender != owner) assertEq(token.allowance(spender, owner), 0, "approval is not directional");
    }

    // ------------------------------------------------------------------ transferFrom

    /// @dev A spender moves at most its allowance, which shrinks by exactly what it moved.
    function testFuzz_transferFrom_succeeds(
        address owner,
        address spender,
        address to,
        uint256 balance,
        uint256 allowance,
        uint256 amount
    ) public {
        allowance = bound(allowance, 0, type(uint256).max - 1);
        amount = bound(amount, 0, balance < allowance ? balance : allowance);
        _mintTo(owner, balance);
        vm.prank(owner);
        token.approve(spender, allowance);

        vm.expectEmit(address(token));
        emit Transfer(owner, to, amount);
        vm.prank(spender);
        assertTrue(token.transferFrom(owner, to, amount));

        assertEq(token.allowance(owner, spender), allowance - amount);
        assertEq(token.balanceOf(owner), to == owner ? balance : balance - amount);
        if (to != owner) assertEq(token.balanceOf(to), amount);
        assertEq(token.totalSupply(), balance);
    }

    /// @dev An infinite allowance is never spent down.
    function testFuzz_transferFrom_infiniteAllowance_succeeds(
        address owner,
        address spender,
        address to,
        uint256 balance,
        uint256 amount
    ) public {
        amount = bound(amount, 0, balance);
        _mintTo(owner, balance);
        vm.prank(owner);
        token.approve(spender, type(uint256).max);
        vm.prank(spender);
        token.transferFrom(owner, to, amount);
        assertEq(token.allowance(owner, spender), type(uint256).max);
        assertEq(token.balanceOf(owner), to == owner ? balance : balance - amount);
    }

    /// @dev Beyond its allowance a spender moves nothing, even with the balance there, and even
    ///      when the spender is the owner itself.
    function testFuzz_transferFrom_insufficientAllowance_reverts(
        address owner,
        address spender,
        address to,
        uint256 allowance,
        uint256 amount,
        bool self
    ) public {
        if (self) spender = owner;
        allowance = bound(allowance, 0, type(uint256).max - 2);
        amount = bound(amount, allowance + 1, type(uint256).max - 1);
        _mintTo(owner, amount);
        vm.prank(owner);
        token.approve(spender, allowance);
        vm.expectRevert(ERC20.InsufficientAllowance.selector);
        vm.prank(spender);
        token.transferFrom(owner, to, amount);
        assertEq(token.allowance(owner, spender), allowance);
        assertEq(token.balanceOf(owner), amount);
    }

    /// @dev Beyond the owner's balance nothing moves and the allowance is not spent.
    function testFuzz_transferFrom_insufficientBalance_reverts(
        address owner,
        address spender,
        address to,
        uint256 balance,
        uint256 amount,
        bool infinite
    ) public {
        balance = bound(balance, 0, type(uint256).max - 1);
        amount = bound(amount, balance + 1, type(uint256).max);
        uint256 allowance = infinite ? type(uint256).max : amount;
        _mintTo(owner, balance);
        vm.prank(owner);
        token.approve(spender, allowance);
        vm.expectRevert(ERC20.InsufficientBalance.selector);
        vm.prank(spender);
        token.transferFrom(owner, to, amount);
        assertEq(token.allowance(owner, spender), allowance);
        assertEq(token.balanceOf(owner), balance);
    }

    /// @dev Permit2 gets no implicit infinite allowance: it moves nothing unapproved, and an
    ///      approval of it means what it says.
    function testFuzz_transferFrom_permit2NotPreapproved_reverts(
        address owner,
        address to,
        uint256 amount,
        uint256 allowance
    ) public {
        amount = bound(amount, 1, type(uint256).max);
        allowance = bound(allowance, 0, amount - 1);
        _mintTo(owner, amount);
        assertEq(token.allowance(owner, PERMIT2), 0);
        vm.expectRevert(ERC20.InsufficientAllowance.selector);
        vm.prank(PERMIT2);
        token.transferFrom(owner, to, amount);

        vm.prank(owner);
        token.approve(PERMIT2, allowance);
        assertEq(token.allowance(owner, PERMIT2), allowance);
        vm.expectRevert(ERC20.InsufficientAllowance.selector);
        vm.prank(PERMIT2);
        token.transferFrom(owner, to, amount);
        assertEq(token.balanceOf(owner), amount);
    }

    // ------------------------------------------------------------------ permit

    /// @dev The holder's signature over exactly this permit, submitted by anyone up to and at its
    ///      deadline, sets the allowance and uses the nonce; the spender can then spend it.
    function testFuzz_permit_succeeds(
        uint256 ownerKey,
        address spender,
        uint256 value,
        uint256 deadline,
        address relayer
    ) public {
        Permit memory p = Permit(
            vm.addr(_key(ownerKey)), spender, value, 0, bound(deadline, block.timestamp, type(uint256).max)
        );
        assertEq(token.DOMAIN_SEPARATOR(), _tokenDomain(), "unexpected EIP-712 domain");
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), _tokenDomain(), p);
        vm.expectEmit(address(token));
        emit Approval(p.owner, spender, value);
        _permit(relayer, p, v, r, s);
        assertEq(token.allowance(p.owner, spender), value);
        assertEq(token.nonces(p.owner), 1);

        uint256 amount = value == type(uint256).max ? 1 : value;
        _mintTo(p.owner, amount);
        vm.prank(spender);
        token.transferFrom(p.owner, spender, amount);
        assertEq(token.balanceOf(spender), amount);
        assertEq(token.allowance(p.owner, spender), value == type(uint256).max ? value : 0);
    }

    /// @dev After its deadline a permit is refused, however well signed.
    function testFuzz_permit_expired_reverts(
        uint256 ownerKey,
        address spender,
        uint256 value,
        uint256 deadline,
        uint256 late
    ) public {
        deadline = bound(deadline, 0, type(uint64).max);
        late = bound(late, deadline + 1, uint256(type(uint64).max) + 1);
        Permit memory p = Permit(vm.addr(_key(ownerKey)), spender, value, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), _tokenDomain(), p);
        vm.warp(late);
        vm.expectRevert(ERC20.PermitExpired.selector);
        token.permit(p.owner, spender, value, deadline, v, r, s);
        assertEq(token.nonces(p.owner), 0);
        assertEq(token.allowance(p.owner, spender), 0);
    }

    /// @dev A permit signed by anyone but the owner it names is refused.
    function testFuzz_permit_wrongSigner_reverts(uint256 ownerKey, uint256 signerKey, address spender, uint256 value)
        public
    {
        ownerKey = _key(ownerKey);
        signerKey = _key(signerKey);
        vm.assume(vm.addr(signerKey) != vm.addr(ownerKey));
        Permit memory p = Permit(vm.addr(ownerKey), spender, value, 0, block.timestamp);
        (uint8 v, bytes32 r, bytes32 s) = _sign(signerKey, _tokenDomain(), p);
        _permitInvalid(p, v, r, s);
    }

    /// @dev No signature speaks for the zero address: a failed recovery is not a match.
    function testFuzz_permit_zeroOwner_reverts(address spender, uint256 value, uint8 v, bytes32 r, bytes32 s) public {
        _permitInvalid(Permit(address(0), spender, value, 0, block.timestamp), v, r, s);
    }

    /// @dev A permit works once: replaying it, or its malleated twin (`N - s`, the other `v`),
    ///      is refused, even after the owner revoked the allowance it gave.
    function testFuzz_permit_replay_reverts(uint256 ownerKey, address spender, uint256 value, bool revoke) public {
        Permit memory p = Permit(vm.addr(_key(ownerKey)), spender, value, 0, block.timestamp);
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), _tokenDomain(), p);
        _permit(address(this), p, v, r, s);
        if (revoke) {
            vm.prank(p.owner);
            token.approve(spender, 0);
        }
        _permitInvalid(p, v, r, s);
        _permitInvalid(p, v == 27 ? 28 : 27, r, bytes32(SECP256K1_N - uint256(s)));
        assertEq(token.nonces(p.owner), 1);
        assertEq(token.allowance(p.owner, spender), revoke ? 0 : value);
    }

    /// @dev A permit signed for another domain — another token name, version, chain or token
    ///      contract — or for this token before a chain fork changed the chain id, is refused.
    function testFuzz_permit_wrongDomain_reverts(
        uint256 ownerKey,
        address spender,
        uint256 value,
        uint256 which,
        uint256 otherChainId,
        address otherToken
    ) public {
        which = bound(which, 0, 4);
        otherChainId = bound(otherChainId, 1, type(uint64).max);
        vm.assume(otherChainId != block.chainid && otherToken != address(token));
        Permit memory p = Permit(vm.addr(_key(ownerKey)), spender, value, 0, type(uint256).max);
        bytes32 domain;
        if (which == 0) domain = _domain(string.concat(_domainName(), " "), "1", block.chainid, address(token));
        if (which == 1) domain = _domain(_domainName(), "2", block.chainid, address(token));
        if (which == 2) domain = _domain(_domainName(), "1", otherChainId, address(token));
        if (which == 3) domain = _domain(_domainName(), "1", block.chainid, otherToken);
        if (which == 4) domain = _tokenDomain();
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), domain, p);
        if (which == 4) vm.chainId(otherChainId);
        _permitInvalid(p, v, r, s);
    }

    /// @dev A signature covers every field: submitted with another owner, spender, value or
    ///      deadline, or signed over a nonce not yet reached, it is refused.
    function testFuzz_permit_tamperedField_reverts(
        uint256 ownerKey,
        address spender,
        uint256 value,
        uint256 which,
        uint256 other
    ) public {
        which = bound(which, 0, 4);
        Permit memory signed = Permit(vm.addr(_key(ownerKey)), spender, value, 0, block.timestamp + 1 days);
        Permit memory sent = Permit(signed.owner, signed.spender, signed.value, signed.nonce, signed.deadline);
        if (which == 0) sent.owner = address(uint160(other));
        if (which == 1) sent.spender = address(uint160(other));
        if (which == 2) sent.value = other;
        if (which == 3) sent.deadline = bound(other, block.timestamp, type(uint256).max);
        if (which == 4) signed.nonce = bound(other, 1, type(uint256).max);
        vm.assume(keccak256(abi.encode(signed)) != keccak256(abi.encode(sent)));
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), _tokenDomain(), signed);
        _permitInvalid(sent, v, r, s);
    }

    /// @dev Permits of one owner apply in nonce order, each once.
    function testFuzz_permit_nonceSequence_succeeds(uint256 ownerKey, address spender, uint256 first, uint256 second)
        public
    {
        Permit memory p = Permit(vm.addr(_key(ownerKey)), spender, first, 0, block.timestamp);
        Permit memory q = Permit(p.owner, spender, second, 1, block.timestamp);
        (uint8 qv, bytes32 qr, bytes32 qs) = _sign(_key(ownerKey), _tokenDomain(), q);
        // The second cannot go first.
        _permitInvalid(q, qv, qr, qs);
        (uint8 v, bytes32 r, bytes32 s) = _sign(_key(ownerKey), _tokenDomain(), p);
        _permit(address(this), p, v, r, s);
        assertEq(token.allowance(p.owner, spender), first);
        _permit(address(this), q, qv, qr, qs);
        assertEq(token.allowance(p.owner, spender), second);
        assertEq(token.nonces(p.owner), 2);
    }
}
