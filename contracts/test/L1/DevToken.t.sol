// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {DevToken} from "src/L1/DevToken.sol";
import {ERC20Tests} from "test/utils/ERC20Tests.sol";

contract DevTokenTest is Test {
    event Transfer(address indexed from, address indexed to, uint256 amount);

    DevToken internal token;

    function setUp() public {
        token = new DevToken();
    }

    function test_metadata_succeeds() public view {
        assertEq(token.name(), "Dev Token");
        assertEq(token.symbol(), "DEV");
        assertEq(token.decimals(), 18);
    }

    function testFuzz_mint_anyone_succeeds(address caller, address to, uint256 amount) public {
        vm.expectEmit(address(token));
        emit Transfer(address(0), to, amount);
        vm.prank(caller);
        token.mint(to, amount);
        assertEq(token.balanceOf(to), amount);
        assertEq(token.totalSupply(), amount);
    }
}

/// @notice The devnet token's transfers, allowances and permits (`ERC20Tests`): the devnet's
///         ERC-20 deposits and withdrawals run on them.
contract DevTokenERC20Test is ERC20Tests {
    function setUp() public {
        token = new DevToken();
    }

    function _mintTo(address to, uint256 amount) internal override {
        DevToken(address(token)).mint(to, amount);
    }

    function _domainName() internal pure override returns (string memory) {
        return "Dev Token";
    }
}
