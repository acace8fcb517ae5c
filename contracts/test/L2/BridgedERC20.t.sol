// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";

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

    function test_metadata_succeeds() public view {
        assertEq(token.name(), "Bridged ERC20");
        assertEq(token.symbol(), "bERC20");
        assertEq(token.decimals(), 18);
        assertEq(token.bridge(), address(this));
        assertEq(token.l1Token(), address(0));
    }

    function testFuzz_initialize_succeeds(address l1Token_) public {
        vm.assume(l1Token_ != address(0));
        vm.expectEmit(address(token));
        emit Initialized(l1Token_);
        token.initialize(l1Token_);
        assertEq(token.l1Token(), l1Token_);
    }

    function test_initialize_twice_reverts() public {
        token.initialize(l1Token);
        vm.expectRevert(BridgedERC20.BridgedERC20_AlreadyInitialized.selector);
        token.initialize(l1Token);
    }

    function test_initialize_zeroL1Token_reverts() public {
        vm.expectRevert(BridgedERC20.BridgedERC20_ZeroL1Token.selector);
        token.initialize(address(0));
    }

    function testFuzz_initialize_notBridge_reverts(address caller) public {
        vm.assume(caller != address(this));
        vm.expectRevert(BridgedERC20.BridgedERC20_NotBridge.selector);
        vm.prank(caller);
        token.initialize(l1Token);
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
}
