//! the privileged fuzzer; the program is fuzzer.rs (one source, two programs: on MCU
//! boards a program runs once at a time).
#![no_std]
#![no_main]

mod fuzzer;

runtime::entry!(fuzzer::main);
