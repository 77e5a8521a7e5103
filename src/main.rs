fn main() {
    println!("socdeck");
}
