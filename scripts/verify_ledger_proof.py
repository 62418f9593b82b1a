#!/usr/bin/env python3
"""Check a Concord ledger proof with only the ledger's public key.

Usage: verify_ledger_proof.py PUBLIC_KEY_BASE64 proof.json

The proof is the JSON of GET /{type}/{id}/_history/{vid}/$ledger-proof (an
inclusion proof) or of GET /$ledger-consistency?first=N[&second=M] (a
consistency proof between two signed tree heads). Needs PyPI
`cryptography` (or `pynacl`). Exit 0 if the proof holds.
"""
import base64
import hashlib
import json
import struct
import sys


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1, size2, root1, root2, path):
    """RFC 9162 section 2.1.4.2."""
    if size1 == 0 or size1 > size2:
        return False
    if size1 == size2:
        return not path and root1 == root2
    if size1 & (size1 - 1) == 0:
        path = [root1] + path
    if not path:
        return False
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


def signed_head(public_key: bytes, head) -> bytes:
    """The root of a tree head whose signature holds, else None."""
    root = bytes.fromhex(head["root_hash"])
    message = (
        b"concord-tree-head-v1\n"
        + struct.pack(">Q", head["tree_size"])
        + struct.pack(">q", head["issued_at"])
        + root
    )
    if verify_signature(public_key, base64.b64decode(head["signature"]), message):
        return root
    return None


def check_consistency(public_key: bytes, proof) -> int:
    first, second = proof["first_tree_head"], proof["second_tree_head"]
    root1, root2 = signed_head(public_key, first), signed_head(public_key, second)
    if root1 is None or root2 is None:
        print("FAIL: a tree head is not signed by this key")
        return 1
    path = [bytes.fromhex(h) for h in proof["consistency_path"]]
    if not verify_consistency(first["tree_size"], second["tree_size"], root1, root2, path):
        print("FAIL: the consistency path does not join the two signed roots")
        return 1
    print(
        f"OK: the signed tree of {first['tree_size']} entries is a prefix of the "
        f"signed tree of {second['tree_size']} entries"
    )
    return 0


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.exceptions import InvalidSignature

        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
            return True
        except InvalidSignature:
            return False
    except ImportError:
        import nacl.signing
        import nacl.exceptions

        try:
            nacl.signing.VerifyKey(public_key).verify(message, signature)
            return True
        except nacl.exceptions.BadSignatureError:
            return False


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    public_key = base64.b64decode(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        proof = json.load(f)
    if "consistency_path" in proof:
        return check_consistency(public_key, proof)
    return check_inclusion(public_key, proof)


def check_inclusion(public_key: bytes, proof) -> int:
    head = proof["tree_head"]
    root = signed_head(public_key, head)
    if root is None:
        print("FAIL: the tree head is not signed by this key")
        return 1
    leaf = base64.b64decode(proof["leaf"])
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    if not verify_inclusion(proof["leaf_index"], head["tree_size"], leaf_hash(leaf), path, root):
        print("FAIL: the audit path does not lead to the signed root")
        return 1
    print(
        f"OK: {proof['resource']} is leaf {proof['leaf_index']} of the signed tree "
        f"of {head['tree_size']} entries"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
