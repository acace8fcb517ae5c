// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @title L2Bridge
/// @notice L2 side of the token bridge, placed in the L2 genesis at `Predeploys.L2_BRIDGE` from
///         its deployed bytecode. It therefore has no constructor logic and no immutables; the
///         L1 bridge's address is written into its storage (slot 2) by the genesis.
///         ERC-20 deposits arrive as system transactions from `Predeploys.DEPOSITOR` calling
///         `finalizeDeposit`; ETH deposits are credited natively by the deposit transaction.
///         Withdrawals start here: `withdraw`/`withdrawTo` burn the bridged token (or take the
///         ETH, which stays locked in this predeploy for good) and record the withdrawal's hash
///         in `sentWithdrawals`, which L1 proves against a proposed state root. A forced
///         withdrawal (`L1Bridge.withdraw` on L1) arrives as a deposit transaction from the L1
///         caller's L2 identity calling `withdrawTo`, so it needs no sequencer cooperation.
///
///         Failed deposits never lock funds: the ERC-20 credit (deploy the token on first use,
///         initialize it with the L1 token's metadata, mint) runs in a self-call that gets all
///         gas but `DEPOSIT_FAILURE_GAS_RESERVE`. If it fails for any reason (too little gas, a
///         reverting mint, malformed metadata) nothing is minted and the bridge records a
///         refund withdrawal instead, `Withdrawal{from: L2_BRIDGE, to: refundTo, ...}`, which the
///         depositor's L1 address proves and finalizes on L1 like any withdrawal (the tokens are
///         still locked in the L1 bridge). A failed ETH deposit needs no refund: the deposit
///         transaction mints the ETH to the depositor's L2 identity before the value transfer,
///         so it stays there (an L1 contract exits it with a forced withdrawal).
/// @dev    Storage layout (part of the protocol: L1 proves slots of this contract, the genesis
///         writes slot 2): slot 0: `sentWithdrawals` (withdrawal `h` at
///         `keccak256(abi.encode(h, uint256(0)))`, value 1 once sent); slot 1: `withdrawalNonce`;
///         slot 2: `l1Bridge`. Append new state only after them.
contract L2Bridge {
    /// @notice Thrown when `finalizeDeposit` is called by anyone but the depositor system sender.
    error L2Bridge_NotDepositor();

    /// @notice Thrown when `creditDeposit` is called by anyone but this bridge itself.
    error L2Bridge_NotSelf();

    /// @notice Thrown when the L2 token named by a deposit or withdrawal is not the one derived
    ///         from the L1 token (or, for ETH, is not address(0)).
    error L2Bridge_TokenMismatch();

    /// @notice Thrown when a deposit names the zero address as its L1 token.
    error L2Bridge_ZeroL1Token();

    /// @notice Thrown when a withdrawal's amount is zero.
    error L2Bridge_ZeroAmount();

    /// @notice Thrown when `withdrawTo` names the zero address as L1 recipient.
    error L2Bridge_ZeroRecipient();

    /// @notice Thrown when a withdrawal names the L1 bridge itself as its L1 recipient: the
    ///         bridge cannot take ETH, and tokens paid to it would be stranded there.
    error L2Bridge_RecipientIsL1Bridge();

    /// @notice Thrown when `msg.value` does not match the withdrawal (ETH: `amount`; ERC-20: zero).
    error L2Bridge_ValueMismatch();

    /// @notice Thrown when an ERC-20 withdrawal names an L2 token this bridge has not deployed.
    error L2Bridge_UnknownToken();

    /// @notice Thrown when withdrawing before the genesis set `l1Bridge`: the withdrawal could
    ///         never be paid out on L1.
    error L2Bridge_L1BridgeNotSet();

    /// @notice Thrown (inside the credit, so the deposit is refunded) when a first deposit's
    ///         token metadata is not `abi.encode(string, string, uint8)`.
    error L2Bridge_MalformedMetadata();

    /// @notice Thrown (inside the credit, so the deposit is refunded) when a first deposit's
    ///         token name or symbol exceeds `DepositLimits.MAX_TOKEN_STRING_BYTES`.
    error L2Bridge_MetadataTooLong();

    /// @notice Emitted when the first deposit of an L1 token deploys its L2 token.
    /// @param l1Token The L1 token.
    /// @param l2Token The newly deployed `BridgedERC20`.
    event BridgedTokenDeployed(address indexed l1Token, address indexed l2Token);

    /// @notice Emitted when an ERC-20 deposit is credited on L2.
    /// @param l1Token The L1 token locked in the L1 bridge.
    /// @param l2Token The L2 token minted.
    /// @param from    The depositor's L2 identity (its L1 address, aliased if a contract).
    /// @param to      The L2 recipient.
    /// @param amount  The amount minted.
    event DepositFinalized(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount
    );

    /// @notice Emitted when an ERC-20 deposit could not be credited and was turned into a
    ///         refund withdrawal to `refundTo` on L1 (announced by the `WithdrawalInitiated`
    ///         emitted just before).
    /// @param l1Token        The L1 token locked in the L1 bridge.
    /// @param from           The depositor's L2 identity.
    /// @param refundTo       The L1 account the refund withdrawal pays.
    /// @param amount         The amount refunded.
    /// @param withdrawalHash The refund withdrawal's hash, its L1 identifier.
    event DepositFailed(
        address indexed l1Token, address indexed from, address indexed refundTo, uint256 amount, bytes32 withdrawalHash
    );

    /// @notice Emitted for every withdrawal, including refund withdrawals of failed deposits.
    /// @param nonce          The withdrawal's nonce.
    /// @param from           The L2 account that withdrew (`Predeploys.L2_BRIDGE` for a refund).
    /// @param to             The L1 recipient.
    /// @param l1Token        The L1 token paid out, or address(0) for ETH.
    /// @param l2Token        The L2 token burned, or address(0) for ETH.
    /// @param amount         The amount.
    /// @param withdrawalHash The withdrawal's hash (`hashWithdrawal`), its L1 identifier.
    event WithdrawalInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        bytes32 withdrawalHash
    );

    /// @notice Gas `finalizeDeposit` keeps back from the credit so that recording the refund
    ///         withdrawal always succeeds when the credit fails (see `DepositLimits`).
    uint256 public constant DEPOSIT_FAILURE_GAS_RESERVE = DepositLimits.DEPOSIT_FAILURE_GAS_RESERVE;

    /// @notice Withdrawals sent, by hash. MUST stay at storage slot 0 (see the contract's @dev).
    mapping(bytes32 withdrawalHash => bool sent) public sentWithdrawals;

    /// @notice The nonce the next withdrawal receives; equals the number of withdrawals. Slot 1.
    uint256 public withdrawalNonce;

    /// @notice The L1 bridge (its proxy) that pays out this bridge's withdrawals; part of every
    ///         withdrawal hash. Slot 2, written by the L2 genesis; there is no setter.
    address public l1Bridge;

    /// @notice Credits an ERC-20 deposit: deploys the L1 token's `BridgedERC20` on first use
    ///         (initialized with `tokenMetadata`) and mints `amount` to `to`. If that fails for
    ///         any reason, records a refund withdrawal of `amount` to `refundTo` on L1 instead and
    ///         emits `DepositFailed`. Only callable by `Predeploys.DEPOSITOR`.
    /// @dev    The credit runs in a self-call (`creditDeposit`) with all gas but
    ///         `DEPOSIT_FAILURE_GAS_RESERVE`; its revert data is never copied, so nothing the
    ///         credit does can starve the refund bookkeeping. The only reverts are the caller and
    ///         token-pair checks, which derivation and L1 already enforce.
    /// @param l1Token       The L1 token locked in the L1 bridge.
    /// @param l2Token       The L2 token the deposit names; must equal `l2TokenOf(l1Token)`.
    /// @param from          The depositor's L2 identity (its L1 address, aliased if a contract).
    /// @param to            The L2 recipient.
    /// @param amount        The amount to mint.
    /// @param refundTo      The depositor's L1 address, paid on L1 if the credit fails.
    /// @param tokenMetadata `abi.encode(string name, string symbol, uint8 decimals)` of the L1
    ///                      token, used only when this deposit deploys the L2 token.
    function finalizeDeposit(
        address l1Token,
        address l2Token,
        address from,
        address to,
        uint256 amount,
        address refundTo,
        bytes calldata tokenMetadata
    ) external {
        if (msg.sender != Predeploys.DEPOSITOR) revert L2Bridge_NotDepositor();
        if (l1Token == address(0)) revert L2Bridge_ZeroL1Token();
        if (l2Token != l2TokenOf(l1Token)) revert L2Bridge_TokenMismatch();

        bytes memory credit = abi.encodeCall(this.creditDeposit, (l1Token, l2Token, to, amount, tokenMetadata));
        bool credited;
        uint256 available = gasleft();
        if (available > DEPOSIT_FAILURE_GAS_RESERVE) {
            uint256 creditGas = available - DEPOSIT_FAILURE_GAS_RESERVE;
            assembly ("memory-safe") {
                // No output buffer: whatever the credit returns or reverts with is never copied.
                credited := call(creditGas, address(), 0, add(credit, 0x20), mload(credit), 0, 0)
            }
        }
        if (credited) {
            emit DepositFinalized(l1Token, l2Token, from, to, amount);
        } else {
            bytes32 withdrawalHash = _recordWithdrawal(Predeploys.L2_BRIDGE, refundTo, l1Token, l2Token, amount);
            emit DepositFailed(l1Token, from, refundTo, amount, withdrawalHash);
        }
    }

    /// @notice The credit of an ERC-20 deposit, run by `finalizeDeposit` as a self-call so that
    ///         any failure reverts it as a whole and turns into a refund. Only callable by this
    ///         bridge.
    /// @dev    On first use deploys `l2Token` (CREATE2, salt = `l1Token`) and initializes it with
    ///         `tokenMetadata`, which must be `abi.encode(string, string, uint8)` with both strings
    ///         at most `MAX_TOKEN_STRING_BYTES` long (`L2Bridge_MalformedMetadata`,
    ///         `L2Bridge_MetadataTooLong`); later deposits ignore `tokenMetadata`.
    /// @param l1Token       The L1 token.
    /// @param l2Token       Its L2 token (`l2TokenOf(l1Token)`, checked by `finalizeDeposit`).
    /// @param to            The L2 recipient.
    /// @param amount        The amount to mint.
    /// @param tokenMetadata The L1 token's metadata.
    function creditDeposit(address l1Token, address l2Token, address to, uint256 amount, bytes calldata tokenMetadata)
        external
    {
        if (msg.sender != address(this)) revert L2Bridge_NotSelf();
        if (l2Token.code.length == 0) {
            (string memory name, string memory symbol, uint8 decimals) = _decodeMetadata(tokenMetadata);
            // Deploys at `l2Token` by construction of `l2TokenOf`.
            new BridgedERC20{salt: _salt(l1Token)}();
            BridgedERC20(l2Token).initialize(l1Token, name, symbol, decimals);
            emit BridgedTokenDeployed(l1Token, l2Token);
        }
        BridgedERC20(l2Token).mint(to, amount);
    }

    /// @notice Starts a withdrawal of `amount` to `msg.sender` on L1 (`withdrawTo` with
    ///         `to = msg.sender`).
    /// @param l1Token The L1 token to receive, or address(0) for ETH.
    /// @param l2Token The L2 token to burn, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    /// @return withdrawalHash The withdrawal's hash, its identifier on L1.
    function withdraw(address l1Token, address l2Token, uint256 amount)
        external
        payable
        returns (bytes32 withdrawalHash)
    {
        return _withdraw(l1Token, l2Token, amount, msg.sender);
    }

    /// @notice Starts a withdrawal of `amount` from `msg.sender` to `to` on L1. ETH:
    ///         `l1Token == l2Token == address(0)` and `msg.value == amount` (the ETH stays locked
    ///         here). ERC-20: `msg.value == 0`, `l2Token == l2TokenOf(l1Token)` deployed by this
    ///         bridge; burns `amount` of it from `msg.sender`. Records the withdrawal hash in
    ///         `sentWithdrawals`. A forced withdrawal started on L1 calls this as the L1
    ///         caller's L2 identity.
    /// @param l1Token The L1 token to receive, or address(0) for ETH.
    /// @param l2Token The L2 token to burn, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    /// @param to      The L1 recipient; neither zero nor the L1 bridge.
    /// @return withdrawalHash The withdrawal's hash, its identifier on L1.
    function withdrawTo(address l1Token, address l2Token, uint256 amount, address to)
        external
        payable
        returns (bytes32 withdrawalHash)
    {
        if (to == address(0)) revert L2Bridge_ZeroRecipient();
        return _withdraw(l1Token, l2Token, amount, to);
    }

    /// @notice The hash of a withdrawal on this chain: `Withdrawals.hash(withdrawal,
    ///         block.chainid, l1Bridge)`.
    /// @param withdrawal The withdrawal.
    /// @return The withdrawal's hash.
    function hashWithdrawal(Withdrawals.Withdrawal calldata withdrawal) external view returns (bytes32) {
        return Withdrawals.hash(withdrawal, block.chainid, l1Bridge);
    }

    /// @notice The L2 token of `l1Token`: the CREATE2 address of its `BridgedERC20`, whether or
    ///         not it is deployed yet.
    /// @param l1Token The L1 token.
    /// @return The L2 token address.
    function l2TokenOf(address l1Token) public view returns (address) {
        bytes32 hash = keccak256(
            abi.encodePacked(bytes1(0xff), address(this), _salt(l1Token), keccak256(type(BridgedERC20).creationCode))
        );
        return address(uint160(uint256(hash)));
    }

    /// @dev Checks and executes a withdrawal of `msg.sender` to `to`.
    function _withdraw(address l1Token, address l2Token, uint256 amount, address to)
        private
        returns (bytes32 withdrawalHash)
    {
        if (amount == 0) revert L2Bridge_ZeroAmount();
        if (l1Token == address(0)) {
            if (l2Token != address(0)) revert L2Bridge_TokenMismatch();
            if (msg.value != amount) revert L2Bridge_ValueMismatch();
        } else {
            if (msg.value != 0) revert L2Bridge_ValueMismatch();
            if (l2Token != l2TokenOf(l1Token)) revert L2Bridge_TokenMismatch();
            if (l2Token.code.length == 0) revert L2Bridge_UnknownToken();
            if (BridgedERC20(l2Token).l1Token() != l1Token) revert L2Bridge_TokenMismatch();
        }
        if (l1Bridge == address(0)) revert L2Bridge_L1BridgeNotSet();
        if (to == l1Bridge) revert L2Bridge_RecipientIsL1Bridge();

        withdrawalHash = _recordWithdrawal(msg.sender, to, l1Token, l2Token, amount);

        // The bridge's own token: burning cannot re-enter.
        if (l1Token != address(0)) BridgedERC20(l2Token).burn(msg.sender, amount);
    }

    /// @dev Assigns the next nonce to a withdrawal, records its hash in `sentWithdrawals` and
    ///      emits `WithdrawalInitiated`. Makes no external call.
    function _recordWithdrawal(address from, address to, address l1Token, address l2Token, uint256 amount)
        private
        returns (bytes32 withdrawalHash)
    {
        uint256 nonce = withdrawalNonce;
        withdrawalNonce = nonce + 1;
        withdrawalHash = Withdrawals.hash(
            Withdrawals.Withdrawal({
                nonce: nonce, from: from, to: to, l1Token: l1Token, l2Token: l2Token, amount: amount
            }),
            block.chainid,
            l1Bridge
        );
        sentWithdrawals[withdrawalHash] = true;
        emit WithdrawalInitiated(nonce, from, to, l1Token, l2Token, amount, withdrawalHash);
    }

    /// @dev Decodes `abi.encode(string name, string symbol, uint8 decimals)`, checking every
    ///      offset and length against the data (lenient about padding and word order, strict
    ///      about bounds) and both strings against `MAX_TOKEN_STRING_BYTES`.
    function _decodeMetadata(bytes calldata metadata)
        private
        pure
        returns (string memory name, string memory symbol, uint8 decimals)
    {
        if (metadata.length < 96) revert L2Bridge_MalformedMetadata();
        uint256 decimalsWord = uint256(bytes32(metadata[64:96]));
        if (decimalsWord > type(uint8).max) revert L2Bridge_MalformedMetadata();
        name = _decodeString(metadata, uint256(bytes32(metadata[0:32])));
        symbol = _decodeString(metadata, uint256(bytes32(metadata[32:64])));
        // casting to 'uint8' is safe because it was checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        decimals = uint8(decimalsWord);
    }

    /// @dev The ABI string at `offset` of `data` (`data.length >= 96`).
    function _decodeString(bytes calldata data, uint256 offset) private pure returns (string memory) {
        if (offset > data.length - 32) revert L2Bridge_MalformedMetadata();
        uint256 length = uint256(bytes32(data[offset:offset + 32]));
        if (length > DepositLimits.MAX_TOKEN_STRING_BYTES) revert L2Bridge_MetadataTooLong();
        if (length > data.length - offset - 32) revert L2Bridge_MalformedMetadata();
        return string(data[offset + 32:offset + 32 + length]);
    }

    /// @dev The CREATE2 salt of an L1 token's `BridgedERC20`.
    function _salt(address l1Token) private pure returns (bytes32) {
        return bytes32(uint256(uint160(l1Token)));
    }
}
