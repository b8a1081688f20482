"""pcap.py - cut one test's traffic out of the relay's capture.

The relay (relay.py) records every frame of a NetKit's life in one
classic pcap file (scapy's RawPcapWriter, flushed per frame). A test
takes a mark (the number of records so far) when it starts; when it
fails, the records from that mark on are written to a pcap file of its
own, which its report names. A trailing record the relay is still
writing (shorter than its header says) is left out."""

from __future__ import annotations

from pathlib import Path


def _records(path: Path):
    """(data, metadata) of each whole record; nothing for a file still
    without its header."""
    from scapy.error import Scapy_Exception
    from scapy.utils import RawPcapReader
    try:
        reader = RawPcapReader(str(path))
    except (EOFError, Scapy_Exception):
        return
    with reader:
        for data, meta in reader:
            if len(data) < meta.caplen:
                return   # the relay is still writing it
            yield data, meta


def frames(path: Path | None, src_mac: str | None = None) -> list[bytes]:
    """The Ethernet frames in the capture (those from `src_mac` only,
    "aa:bb:..", when given)."""
    if path is None or not Path(path).is_file():
        return []
    return [data for data, _ in _records(Path(path))
            if src_mac is None or data[6:12].hex(":") == src_mac.lower()]


def count(path: Path | None) -> int:
    """Records in the capture now (0 when there is none yet)."""
    if path is None or not Path(path).is_file():
        return 0
    return sum(1 for _ in _records(Path(path)))


def cut(path: Path | None, first: int, dest: Path) -> int:
    """Write the records from index `first` on to `dest`; how many. No
    file is written when there are none."""
    if path is None or not Path(path).is_file():
        return 0
    from scapy.utils import RawPcapWriter
    writer = None
    n = 0
    for i, (data, meta) in enumerate(_records(Path(path))):
        if i < first:
            continue
        if writer is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            writer = RawPcapWriter(str(dest), linktype=1)
            writer.write_header(data)
        writer.write_packet(data, sec=meta.sec, usec=meta.usec, caplen=meta.caplen,
                            wirelen=meta.wirelen)
        n += 1
    if writer is not None:
        writer.close()
    return n
