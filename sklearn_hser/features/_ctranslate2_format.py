"""Read the variables of a CTranslate2 ``model.bin`` into numpy arrays.

CTranslate2 stores a converted model as one binary file with a documented,
stable layout (binary version 6 here): a header (format version, spec name,
spec revision), then each variable as its name, shape, data type and raw
little-endian bytes, then a table of aliases. Reading it directly lets the
package run every layer of a Whisper encoder in torch (CTranslate2's own API
only returns the last one) without converting or downloading anything.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: CTranslate2's data type codes.
_DTYPES = {
    0: np.float32,
    1: np.int8,
    2: np.int16,
    3: np.int32,
    4: np.float16,
    5: "bfloat16",
}
_SUPPORTED_VERSIONS = range(5, 7)


class _Reader:
    def __init__(self, handle):
        self.handle = handle

    def unpack(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        data = self.handle.read(size)
        if len(data) != size:
            raise ValueError("unexpected end of file")
        return struct.unpack("<" + fmt, data)

    def string(self) -> str:
        (length,) = self.unpack("H")
        raw = self.handle.read(length)
        if len(raw) != length:
            raise ValueError("unexpected end of file")
        return raw.rstrip(b"\0").decode("utf-8")


def _to_array(raw: bytes, dtype_code: int, shape: tuple) -> np.ndarray:
    dtype = _DTYPES.get(dtype_code)
    if dtype is None:
        raise ValueError(f"unsupported CTranslate2 data type code {dtype_code}")
    if dtype == "bfloat16":
        # bfloat16 is the top half of a float32.
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def read_model_bin(
    path: str | Path, keep: Callable[[str], bool] = lambda name: True
) -> tuple[str, dict[str, np.ndarray]]:
    """Read the variables of a CTranslate2 model file.

    Parameters
    ----------
    path : path-like
        The ``model.bin`` file.
    keep : callable, default=keep all
        ``keep(name)`` says which variables to load; the others are skipped
        without being read (e.g. a Whisper decoder when only the encoder is
        needed).

    Returns
    -------
    spec : str
        The model specification's name, e.g. ``"WhisperSpec"``.
    variables : dict of str to ndarray
        The kept variables (aliases resolved), in their stored data type.

    Raises
    ------
    ValueError
        If the file is not a CTranslate2 model of a supported format version,
        or is truncated.
    """
    path = Path(path)
    # name -> (offset, shape, dtype code, bytes); data is read only for kept
    # names. CTranslate2 stores identical variables once and aliases the
    # rest, so a kept name may point at data stored under a skipped one:
    # index everything first, resolve aliases, then read.
    index: dict[str, tuple] = {}
    with open(path, "rb") as handle:
        reader = _Reader(handle)
        try:
            (version,) = reader.unpack("I")
            if version not in _SUPPORTED_VERSIONS:
                raise ValueError(
                    f"binary format version {version} is not supported "
                    f"(supported: {list(_SUPPORTED_VERSIONS)})"
                )
            spec = reader.string()
            reader.unpack("I")  # spec revision
            (count,) = reader.unpack("I")
            for _ in range(count):
                name = reader.string()
                (rank,) = reader.unpack("B")
                shape = reader.unpack("I" * rank) if rank else ()
                (dtype_code,) = reader.unpack("B")
                (n_bytes,) = reader.unpack("I")
                index[name] = (handle.tell(), shape, dtype_code, n_bytes)
                handle.seek(n_bytes, 1)
            (n_aliases,) = reader.unpack("I")
            for _ in range(n_aliases):
                alias, target = reader.string(), reader.string()
                if target in index:
                    index.setdefault(alias, index[target])
            variables = {}
            for name, (offset, shape, dtype_code, n_bytes) in index.items():
                if not keep(name):
                    continue
                handle.seek(offset)
                raw = handle.read(n_bytes)
                if len(raw) != n_bytes:
                    raise ValueError("unexpected end of file")
                variables[name] = _to_array(raw, dtype_code, shape)
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(
                f"{path} is not a readable CTranslate2 model: {exc}"
            ) from exc
    return spec, variables
