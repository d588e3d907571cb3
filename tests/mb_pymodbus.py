#!/usr/bin/python3
"""pymodbus 3.0 master for the integration tests.

  mb_pymodbus.py PORT BAUD ID read ADDR COUNT     registers in hex
  mb_pymodbus.py PORT BAUD ID readf ADDR COUNT    ABCD floats
  mb_pymodbus.py PORT BAUD ID write ADDR VALUE    FC 06
PORT may be tcp:HOST:PORT: the RTU framer on a TCP client (BAUD unused).
Parity N: a pty cannot carry parity and pyserial fails to set it on one
(GUIDE 7). Exit 1 when the slave does not answer or answers an exception."""
import logging
import struct
import sys

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.transaction import ModbusRtuFramer

logging.disable(logging.CRITICAL)
port, baud, slave, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
addr = int(sys.argv[5], 0)
if port.startswith("tcp:"):  # RTU frames over a raw TCP port (a serial device server)
    host, tcp_port = port[4:].rsplit(":", 1)
    client = ModbusTcpClient(host, int(tcp_port), framer=ModbusRtuFramer, timeout=1, retries=0)
else:
    client = ModbusSerialClient(port=port, baudrate=baud, parity="N", bytesize=8, stopbits=1,
                                timeout=1, retries=0)
if not client.connect():
    print("pymodbus: cannot open " + port, file=sys.stderr)
    sys.exit(1)
try:
    if cmd in ("read", "readf"):
        count = int(sys.argv[6])
        rr = client.read_holding_registers(addr, count, slave=slave)
        if rr.isError():
            print("pymodbus: " + str(rr), file=sys.stderr)
            sys.exit(1)
        regs = rr.registers
        if cmd == "readf":
            vals = [struct.unpack(">f", struct.pack(">HH", regs[k], regs[k + 1]))[0]
                    for k in range(0, count - 1, 2)]
            print(" ".join("%.6g" % v for v in vals))
        else:
            print(" ".join("0x%04X" % r for r in regs))
    elif cmd == "write":
        rr = client.write_register(addr, int(sys.argv[6], 0), slave=slave)
        if rr.isError():
            print("pymodbus: " + str(rr), file=sys.stderr)
            sys.exit(1)
    else:
        sys.exit(2)
finally:
    client.close()
