#!/usr/bin/python3
"""A pymodbus 3.0 RTU serial server on a pty, serving 44 holding registers at
0x5000, for scripts/bench-modbus.sh.

  pymodbus_pty_server.py LINK

pymodbus opens its serial port by name, but the server side of a pty has no
name; so its transport is pointed at our pty master (the request handler,
framer and datastore are pymodbus's own: that is what is measured)."""
import asyncio
import logging
import os
import sys
import tty

import serial_asyncio
from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import async_io
from pymodbus.transaction import ModbusRtuFramer

logging.basicConfig(level=logging.DEBUG if os.environ.get("PYM_DEBUG") else logging.CRITICAL)


class PtyMaster:
    """Just the part of a pyserial Serial that serial_asyncio uses."""

    def __init__(self, fd):
        self.fd = fd
        self.timeout = 0
        self.port = "pty"
        self.write_timeout = 0
        os.set_blocking(fd, False)

    def fileno(self):
        return self.fd

    def read(self, n):
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            return b""

    def write(self, data):
        return os.write(self.fd, data)

    @property
    def out_waiting(self):
        return 0

    def flush(self):
        pass

    def close(self):
        os.close(self.fd)


master, slave = os.openpty()
tty.setraw(slave)
link = sys.argv[1]
tmp = link + ".tmp"
if os.path.lexists(tmp):
    os.unlink(tmp)
os.symlink(os.ttyname(slave), tmp)
os.rename(tmp, link)


async def connect(loop, factory, url, **kwargs):
    proto = factory()
    return serial_asyncio.SerialTransport(loop, proto, PtyMaster(master)), proto


async_io.create_serial_connection = connect
block = ModbusSequentialDataBlock(0x5000, [0x4366] * 44)
slave_ctx = ModbusSlaveContext(hr=block, zero_mode=True)
context = ModbusServerContext(slaves={1: slave_ctx}, single=False)
print("ready", flush=True)
asyncio.run(async_io.StartAsyncSerialServer(context=context, framer=ModbusRtuFramer, port="pty",
                                            baudrate=9600))
