// bin_build.rs - the build script shared by every user program: link it
// with userland/user.ld (given by absolute path, so the build works from
// any working directory).
use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let script = manifest.parent().expect("userland/").join("user.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    let target = env::var("TARGET").unwrap_or_default();
    if target.ends_with("-none") {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        println!("cargo:rustc-link-arg-bins=--gc-sections");
        println!("cargo:rustc-link-arg-bins=-static");
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
