"""tools/usb_keyboard.py: report decoding (the formats of
userland/keyboard/src/report.rs), the pyusb HID reader against a stand-in
of the keyboard's composite device (usb_keyboard_device.py), and the
CDC-ACM port finder against a stand-in list_ports."""

from types import SimpleNamespace

import pytest

from tools.errors import ToolError
from tools.tests import usb_keyboard_device as fake
from tools.usb_keyboard import (HidReportReader, Report, ReportError, decode, decode_boot,
                                decode_nkro, find_cdc_acm_port, udev_rule)

VID, PID = 0x1209, 0x0001
LSHIFT, RALT = 0x02, 0x40


def nkro(mods, usages):
    r = bytearray(29)
    r[0] = mods
    for u in usages:
        r[1 + u // 8] |= 1 << (u % 8)
    return bytes(r)


# -- decoding ---------------------------------------------------------------

def test_boot_report():
    assert decode_boot(bytes([LSHIFT, 0, 0x04, 0x05, 0, 0, 0, 0])) == \
        Report(LSHIFT, frozenset({0x04, 0x05}), rollover=False)
    assert decode_boot(bytes(8)) == Report(0, frozenset())
    # Slots in any order, empty ones anywhere.
    assert decode_boot(bytes([0, 0, 0, 0x2C, 0, 0x04, 0, 0])).keys == {0x04, 0x2C}


def test_boot_rollover_keeps_the_modifiers():
    r = decode_boot(bytes([LSHIFT | RALT, 0, 1, 1, 1, 1, 1, 1]))
    assert r == Report(LSHIFT | RALT, frozenset(), rollover=True)


def test_nkro_report_bit_layout():
    r = decode_nkro(nkro(RALT, [0x04, 0x2C, 0xDF]))
    assert r == Report(RALT, frozenset({0x04, 0x2C, 0xDF}), rollover=False)
    raw = bytearray(29)
    raw[1] = 0b0001_0000                 # usage 0x04: byte 1, bit 4
    raw[28] = 0x80                       # usage 0xDF: byte 28, bit 7
    assert decode_nkro(bytes(raw)).keys == {0x04, 0xDF}


def test_both_formats_mean_the_same():
    keys = [0x04, 0x05, 0x06, 0x07, 0x08, 0x09]
    boot = decode(bytes([LSHIFT, 0] + keys))
    assert boot == decode(nkro(LSHIFT, keys))
    assert decode(nkro(0, keys + [0x0A])).keys == frozenset(keys + [0x0A])


def test_report_is_a_small_frozen_value():
    r = Report(1, frozenset({4}))
    with pytest.raises(AttributeError):
        r.modifiers = 2
    assert {r, Report(1, frozenset({4}), False)} == {r}
    assert not r.rollover


@pytest.mark.parametrize("decoder, data, message", [
    (decode_boot, bytes(7), "boot report of 7 bytes (expected 8)"),
    (decode_nkro, bytes(30), "NKRO report of 30 bytes (expected 29)"),
    (decode_boot, bytes([0, 0, 2, 0, 0, 0, 0, 0]), "boot report slot 0x02 is not a key usage"),
    (decode_boot, bytes([0, 0, 1, 4, 0, 0, 0, 0]), "boot report slot 0x01 is not a key usage"),
    (decode_boot, bytes([0, 0, 0xE0, 0, 0, 0, 0, 0]), "boot report slot 0xe0"),
    (decode_nkro, nkro(0, [0x01]), "NKRO report sets the bit of usage 0x01"),
])
def test_malformed_reports_are_one_line(decoder, data, message):
    with pytest.raises(ReportError) as e:
        decoder(data)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, ToolError)


def test_decode_by_length_refuses_other_lengths():
    with pytest.raises(ReportError, match="neither boot"):
        decode(bytes(9))


# -- the HID reader (pyusb) ---------------------------------------------------------

def test_reader_detaches_claims_reads_and_gives_back(monkeypatch):
    (dev,) = fake.install(monkeypatch, fake.KeyboardDevice(VID, PID))
    dev.press(0x81, bytes([LSHIFT, 0, 0x04, 0, 0, 0, 0, 0]))
    dev.press(0x82, nkro(0, [0x05]))           # the NKRO interface: not read here
    with HidReportReader(VID, PID, 0, timeout_ms=20) as reader:
        assert dev.kernel_drivers[0] is False and dev.claimed == {0}
        assert dev.kernel_drivers[1] is True, "only the named interface is taken"
        assert reader.read() == Report(LSHIFT, frozenset({0x04}))
        assert reader.read() is None            # nothing more within 20 ms
        assert dev.reads == [(0x81, 64, 20), (0x81, 64, 20)]
    assert dev.claimed == set() and dev.kernel_drivers[0] is True
    assert dev.disposed >= 1


def test_reader_on_the_nkro_interface(monkeypatch):
    (dev,) = fake.install(monkeypatch, fake.KeyboardDevice(VID, PID))
    dev.press(0x82, nkro(RALT, [0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A]))
    with HidReportReader(VID, PID, 1) as reader:
        r = reader.read(timeout_ms=5)
        assert r.keys == frozenset(range(0x04, 0x0B)) and r.modifiers == RALT
        assert dev.reads[-1] == (0x82, 64, 5)


def test_reader_configures_an_unconfigured_device(monkeypatch):
    (dev,) = fake.install(monkeypatch, fake.KeyboardDevice(VID, PID, configured=False,
                                                           kernel_drivers=()))
    with HidReportReader(VID, PID, 0):
        assert dev.configured and dev.claimed == {0}
    assert dev.kernel_drivers.get(0, False) is False, "no driver to give back"


def test_no_device_is_one_line(monkeypatch):
    fake.install(monkeypatch, fake.KeyboardDevice(0x1234, 0x5678))
    with pytest.raises(ToolError) as e:
        HidReportReader(VID, PID, 0)
    text = str(e.value)
    assert "\n" not in text
    assert "no USB device 1209:0001 found" in text and "plug" in text and "VID:PID" in text


def test_two_devices_is_one_line(monkeypatch):
    fake.install(monkeypatch, fake.KeyboardDevice(VID, PID), fake.KeyboardDevice(VID, PID))
    with pytest.raises(ToolError, match="2 devices 1209:0001 attached"):
        HidReportReader(VID, PID, 0)


def test_permission_denied_names_the_udev_rule(monkeypatch):
    fake.install(monkeypatch, fake.KeyboardDevice(VID, PID, denied=True))
    with pytest.raises(ToolError) as e:
        HidReportReader(VID, PID, 0)
    text = str(e.value)
    assert "\n" not in text and "no permission" in text
    assert udev_rule(VID, PID) in text
    assert 'ATTRS{idVendor}=="1209", ATTRS{idProduct}=="0001", MODE="0666"' in text
    assert "/etc/udev/rules.d/" in text


def test_missing_interface_and_non_hid_interface(monkeypatch):
    fake.install(monkeypatch, fake.KeyboardDevice(VID, PID))
    with pytest.raises(ToolError, match=r"has no interface 7 \(its interfaces: \[0, 1, 2, 3\]\)"):
        HidReportReader(VID, PID, 7)
    with pytest.raises(ToolError, match="interface 3 .* has no interrupt IN endpoint"):
        HidReportReader(VID, PID, 3)


def test_unplugged_while_reading(monkeypatch):
    (dev,) = fake.install(monkeypatch, fake.KeyboardDevice(VID, PID))
    reader = HidReportReader(VID, PID, 0)
    dev.unplug()
    with pytest.raises(ToolError, match="went away .*unplugged"):
        reader.read()
    reader.close()                               # nothing to give back; no error


def test_no_backend_is_one_line(monkeypatch):
    import usb.core

    def find(**kw):
        raise usb.core.NoBackendError("No backend available")
    monkeypatch.setattr(usb.core, "find", find)
    with pytest.raises(ToolError, match="NoBackendError: No backend available .*libusb"):
        HidReportReader(VID, PID, 0)


# -- the CDC-ACM port ---------------------------------------------------------------

def port(device, vid, pid, location):
    return SimpleNamespace(device=device, vid=vid, pid=pid, location=location,
                           interface="Nagi console")


@pytest.fixture
def ports(monkeypatch):
    from serial.tools import list_ports
    listed = []
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: list(listed))
    return listed


def test_finds_the_boards_acm_port(ports):
    ports += [port("/dev/ttyACM0", 0x0483, 0x374b, "1-1:1.2"),     # the ST-Link's VCP
              port("/dev/ttyACM1", VID, PID, "1-2:1.2"),
              port("/dev/ttyS0", None, None, None)]
    assert find_cdc_acm_port(VID, PID) == "/dev/ttyACM1"
    assert find_cdc_acm_port(VID, PID, interface=2) == "/dev/ttyACM1"
    assert find_cdc_acm_port(0x0483, 0x374b) == "/dev/ttyACM0"


def test_interface_picks_among_several_ports(ports):
    ports += [port("/dev/ttyACM3", VID, PID, "3-1.4:1.2"),
              port("/dev/ttyACM4", VID, PID, "3-1.4:1.4"),
              port("COM7", VID, PID, "1-1.4:x.6")]          # Windows spells it x.N
    assert find_cdc_acm_port(VID, PID, interface=4) == "/dev/ttyACM4"
    assert find_cdc_acm_port(VID, PID, interface=6) == "COM7"
    with pytest.raises(ToolError) as e:
        find_cdc_acm_port(VID, PID)
    assert "3 serial ports of USB device 1209:0001" in str(e.value)
    assert "/dev/ttyACM3, /dev/ttyACM4" in str(e.value) and "\n" not in str(e.value)


def test_no_port_is_one_line(ports):
    ports.append(port("/dev/ttyACM0", 0x0483, 0x374b, "1-1:1.2"))
    with pytest.raises(ToolError) as e:
        find_cdc_acm_port(VID, PID, interface=2)
    text = str(e.value)
    assert "\n" not in text
    assert "no serial port of USB device 1209:0001 interface 2 found" in text
    assert "plug the board's USB port" in text
