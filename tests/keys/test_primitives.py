"""The published SM4 and SM3 test vectors, SM4-GCM on the pinned `cryptography` (RFC 8998's vector), and the
primitives behind backend/pii.py."""

import re
from pathlib import Path

import cryptography
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from backend.keys import primitives

pytestmark = pytest.mark.no_db
ROOT = Path(__file__).resolve().parents[2]


def test_the_pinned_cryptography_is_the_one_installed():
    pin = re.search(r"^cryptography==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert cryptography.__version__ == pin


def test_sm4_gbt_32907_example_1():
    """GB/T 32907-2016 Appendix A, example 1: one block, key = plaintext = 0123456789abcdeffedcba9876543210."""
    key = plaintext = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(plaintext) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    assert decryptor.update(bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == plaintext


def test_sm3_gbt_32905_examples():
    """GB/T 32905-2016 Appendix A: "abc" and the 512-bit "abcd" x 16."""
    assert primitives.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert primitives.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm4_gcm_rfc_8998_vector_on_the_pinned_version():
    """RFC 8998 Appendix A.1 (SM4-GCM, as TLS 1.3 uses it): proves this `cryptography` build seals SM4-GCM."""
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    assert ciphertext.hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert encryptor.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"


@pytest.mark.parametrize("letter", ["A", "S"])
def test_seal_round_trip_and_tamper(letter):
    key, nonce = b"k" * 32, b"n" * 12
    blob = primitives.seal(letter, key, nonce, b"110105199001011234", b"ctx")
    assert primitives.unseal(letter, key, blob, b"ctx") == b"110105199001011234"
    with pytest.raises(InvalidTag):
        primitives.unseal(letter, key, blob, b"other context")
    with pytest.raises(InvalidTag):
        primitives.unseal(letter, key, blob[:-1] + bytes([blob[-1] ^ 1]), b"ctx")


def test_aes_and_sm4_ciphertexts_differ_under_one_key():
    key, nonce = b"k" * 32, b"n" * 12
    assert primitives.seal("A", key, nonce, b"x" * 18, b"c") != primitives.seal("S", key, nonce, b"x" * 18, b"c")


def test_hmac_sm3_state_copies_like_hmac_sha256():
    for letter in ("H", "M"):
        state = primitives.Mac(letter, b"key")
        first, second = state.copy(), state.copy()
        first.update(b"a")
        second.update(b"a")
        assert first.hexdigest() == second.hexdigest() == primitives.mac_bytes(letter, b"key", b"a").hex()
    assert primitives.mac_bytes("H", b"key", b"a") != primitives.mac_bytes("M", b"key", b"a")
