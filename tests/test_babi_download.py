"""The download helper, tested on a small archive built here (never the network)."""

import hashlib
import io
import tarfile

import pytest
from conftest import QA1

from memlib.babi.download import download
from memlib.babi.format import load_task


def make_archive(path):
    with tarfile.open(path, "w:gz") as tar:
        for sub in ("en", "en-10k"):
            data = QA1.encode()
            info = tarfile.TarInfo(f"tasks_1-20_v1-2/{sub}/qa1_single-supporting-fact_train.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_and_unpacks(tmp_path):
    archive = tmp_path / "src" / "tasks_1-20_v1-2.tar.gz"
    archive.parent.mkdir()
    digest = make_archive(archive)
    root = download(tmp_path / "babi", url=archive.as_uri(), checksum=digest)
    assert root.name == "tasks_1-20_v1-2"
    assert len(load_task(root, 1, "train")) == 2
    assert (tmp_path / "babi" / "tasks_1-20_v1-2.tar.gz.sha256").read_text().startswith(digest)


def test_checksum_mismatch_is_refused(tmp_path):
    archive = tmp_path / "tasks_1-20_v1-2.tar.gz"
    make_archive(archive)
    with pytest.raises(ValueError, match="checksum mismatch"):
        download(tmp_path / "babi", url=archive.as_uri(), checksum="0" * 64)
    assert not list((tmp_path / "babi").glob("*.tar.gz"))


def test_offline_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectionError, match="works offline on generated data"):
        download(tmp_path, url=(tmp_path / "missing.tar.gz").as_uri())
