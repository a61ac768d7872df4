"""Fetch the official bAbI v1.2 archive when online, verify it, unpack it under data/babi/.

The suite never needs this: it runs on our generator's data. Learners who have the official
files (or a connection) can compare with them; the data is CC BY 3.0 (Facebook, Inc.).
"""

from __future__ import annotations

import hashlib
import pathlib
import shutil
import tarfile
import urllib.request

URL = "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"
#: SHA-256 to insist on. None (the default: the official digest could not be obtained offline)
#: accepts the archive; its digest is always written next to it (``….tar.gz.sha256``) to pin later
SHA256 = None
DEST = pathlib.Path(__file__).resolve().parents[2] / "data" / "babi"


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(dest=DEST, url: str = URL, checksum: str | None = SHA256, timeout: float = 60) -> pathlib.Path:
    """Download (or copy, for a ``file://`` URL) the archive, check its SHA-256, unpack it into `dest`.

    Returns the unpacked root (``dest/tasks_1-20_v1-2``), ready for ``load_task``.
    """
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / url.rsplit("/", 1)[-1]
    tmp = archive.with_suffix(archive.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConnectionError(f"could not download {url}: {exc}; the suite works offline on generated data") from None
    got = sha256(tmp)
    if checksum is not None and got != checksum:
        tmp.unlink()
        raise ValueError(f"checksum mismatch for {url}: expected sha256 {checksum}, got {got}")
    tmp.replace(archive)
    archive.with_name(archive.name + ".sha256").write_text(f"{got}  {archive.name}\n")
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not str(target).startswith(str(dest.resolve())):
                raise ValueError(f"unsafe path in archive: {member.name}")
        try:
            tar.extractall(dest, filter="data")
        except TypeError:  # Python without extraction filters (3.10.11 and older)
            tar.extractall(dest)
    roots = [p for p in dest.iterdir() if p.is_dir() and (p / "en").is_dir()]
    return roots[0] if roots else dest
