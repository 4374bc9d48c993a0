fn main() {
    #[cfg(target_arch = "wasm32")]
    porchlight_widget::start();
}
