// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {ERC20} from "solady/tokens/ERC20.sol";
import {ERC20Tests} from "test/utils/ERC20Tests.sol";

/// @dev This test contract deploys the token, so it plays the bridge.
contract BridgedERC20Test is Test {
    event Initialized(address indexed l1Token);
    event Transfer(address indexed from, address indexed to, uint256 amount);

    BridgedERC20 internal token;
    address internal l1Token;
    address internal alice;

    function setUp() public {
        token = new BridgedERC20();
        l1Token = makeAddr("l1Token");
        alice = makeAddr("alice");
    }

    function test_uninitialized_succeeds() public view {
        assertEq(token.name(), "");
        assertEq(token.symbol(), "");
        assertEq(token.decimals(), 0);
        assertEq(token.bridge(), address(this));
        assertEq(token.l1Token(), address(0));
    }

    function test_initialize_metadata_succeeds() public {
        token.initialize(l1Token, "Wrapped Ether", "WETH", 18);
        assertEq(token.name(), "Wrapped Ether");
        assertEq(token.symbol(), "WETH");
        assertEq(token.decimals(), 18);
        assertEq(token.l1Token(), l1Token);
    }

    /// @dev Any name and symbol up to 64 bytes (incl. empty, exactly 32, exactly 64, and bytes
    ///      that are not UTF-8) round-trip exactly, with clean ABI padding.
    function testFuzz_initialize_succeeds(
        address l1Token_,
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_
    ) public {
        vm.assume(l1Token_ != address(0));
        vm.assume(bytes(name_).length <= 64 && bytes(symbol_).length <= 64);
        vm.expectEmit(address(token));
        emit Initialized(l1Token_);
        token.initialize(l1Token_, name_, symbol_, decimals_);
        assertEq(token.l1Token(), l1Token_);
        assertEq(token.name(), name_);
        assertEq(token.symbol(), symbol_);
        assertEq(token.decimals(), decimals_);
        (bool ok, bytes memory raw) = address(token).staticcall(abi.encodeCall(BridgedERC20.name, ()));
        assertTrue(ok);
        assertEq(raw, abi.encode(name_), "name() is not the canonical ABI encoding");
    }

    function testFuzz_initialize_lengths_succeeds(uint256 nameLength, uint256 symbolLength, bytes32 seed) public {
        nameLength = bound(nameLength, 0, 64);
        symbolLength = bound(symbolLength, 0, 64);
        string memory name_ = _bytes(seed, nameLength);
        string memory symbol_ = _bytes(~seed, symbolLength);
        token.initialize(l1Token, name_, symbol_, 6);
        assertEq(token.name(), name_);
        assertEq(token.symbol(), symbol_);
    }

    function testFuzz_initialize_tooLong_reverts(uint256 nameLength, uint256 symbolLength) public {
        nameLength = bound(nameLength, 0, 300);
        symbolLength = bound(symbolLength, 0, 300);
        vm.assume(nameLength > 64 || symbolLength > 64);
        vm.expectRevert(BridgedERC20.BridgedERC20_MetadataTooLong.selector);
        token.initialize(l1Token, _bytes(0, nameLength), _bytes(0, symbolLength), 18);
    }

    function test_initialize_twice_reverts() public {
        token.initialize(l1Token, "A", "A", 1);
        vm.expectRevert(BridgedERC20.BridgedERC20_AlreadyInitialized.selector);
        token.initialize(l1Token, "B", "B", 2);
        assertEq(token.name(), "A");
    }

    function test_initialize_zeroL1Token_reverts() public {
        vm.expectRevert(BridgedERC20.BridgedERC20_ZeroL1Token.selector);
        token.initialize(address(0), "A", "A", 18);
    }

    function testFuzz_initialize_notBridge_reverts(address caller) public {
        vm.assume(caller != address(this));
        vm.expectRevert(BridgedERC20.BridgedERC20_NotBridge.selector);
        vm.prank(caller);
        token.initialize(l1Token, "A", "A", 18);
    }

    function testFuzz_mintBurn_bridge_succeeds(address to, uint256 minted, uint256 burned) public {
        burned = bound(burned, 0, minted);
        vm.expectEmit(address(token));
        emit Transfer(address(0), to, minted);
        token.mint(to, minted);
        vm.expectEmit(address(token));
        emit Transfer(to, address(0), burned);
        token.burn(to, burned);
        assertEq(token.balanceOf(to), minted - burned);
        assertEq(token.totalSupply(), minted - burned);
    }

    function testFuzz_mint_notBridge_reverts(address caller, uint256 amount) public {
        vm.assume(caller != address(this));
        vm.expectRevert(BridgedERC20.BridgedERC20_NotBridge.selector);
        vm.prank(caller);
        token.mint(caller, amount);
    }

    function testFuzz_burn_notBridge_reverts(address caller, uint256 amount) public {
        vm.assume(caller != address(this));
        token.mint(alice, amount);
        vm.expectRevert(BridgedERC20.BridgedERC20_NotBridge.selector);
        vm.prank(caller);
        token.burn(alice, amount);
    }

    /// @dev The bridge burns only what the holder has: a withdrawal of more burns nothing.
    function testFuzz_burn_insufficientBalance_reverts(address holder, uint256 balance, uint256 amount) public {
        balance = bound(balance, 0, type(uint256).max - 1);
        amount = bound(amount, balance + 1, type(uint256).max);
        token.mint(holder, balance);
        vm.expectRevert(ERC20.InsufficientBalance.selector);
        token.burn(holder, amount);
        assertEq(token.balanceOf(holder), balance);
        assertEq(token.totalSupply(), balance);
    }

    /// @dev Minting never wraps the supply around.
    function testFuzz_mint_totalSupplyOverflow_reverts(address first, address second, uint256 minted, uint256 more)
        public
    {
        minted = bound(minted, 1, type(uint256).max);
        more = bound(more, type(uint256).max - minted + 1, type(uint256).max);
        token.mint(first, minted);
        vm.expectRevert(ERC20.TotalSupplyOverflow.selector);
        token.mint(second, more);
        assertEq(token.totalSupply(), minted);
        assertEq(token.balanceOf(first), minted);
    }

    /// @dev A permit signed over the L1 token's name, whatever it is (up to 64 bytes, any
    ///      bytes), is valid: the domain reads back exactly the stored name.
    function testFuzz_permit_anyName_succeeds(string calldata name_, uint256 ownerKey, address spender, uint256 value)
        public
    {
        vm.assume(bytes(name_).length <= 64);
        ownerKey = bound(ownerKey, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        token.initialize(l1Token, name_, "TKN", 18);
        address owner = vm.addr(ownerKey);
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name_)),
                keccak256("1"),
                block.chainid,
                address(token)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                value,
                0,
                block.timestamp
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        token.permit(owner, spender, value, block.timestamp, v, r, s);
        assertEq(token.allowance(owner, spender), value);
        assertEq(token.nonces(owner), 1);
    }

    /// @dev The EIP-712 domain follows the stored name.
    function test_domainSeparator_usesName_succeeds() public {
        BridgedERC20 other = new BridgedERC20();
        token.initialize(l1Token, "One", "ONE", 18);
        other.initialize(l1Token, "Two", "TWO", 18);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("One"),
                keccak256("1"),
                block.chainid,
                address(token)
            )
        );
        assertEq(token.DOMAIN_SEPARATOR(), expected);
        assertTrue(token.DOMAIN_SEPARATOR() != other.DOMAIN_SEPARATOR());
    }

    /// @dev `length` pseudo-random bytes (any values, zero included).
    function _bytes(bytes32 seed, uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = keccak256(abi.encode(seed, i))[0];
        }
        return string(b);
    }
}

/// @notice `BridgedERC20` as the token its L2 holders use (`ERC20Tests`): transfers,
///         allowances and permits in the L1 token's name. This contract is the bridge.
contract BridgedERC20TokenTest is ERC20Tests {
    string internal constant NAME = "Wrapped Ether";

    function setUp() public {
        BridgedERC20 bridged = new BridgedERC20();
        bridged.initialize(makeAddr("l1Token"), NAME, "WETH", 18);
        token = bridged;
    }

    function _mintTo(address to, uint256 amount) internal override {
        BridgedERC20(address(token)).mint(to, amount);
    }

    function _domainName() internal pure override returns (string memory) {
        return NAME;
    }
}
