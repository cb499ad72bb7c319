//! Rebuilds when a migration is added: `sqlx::migrate!` embeds the folder's files, and a
//! proc macro cannot ask cargo to watch a folder for new ones.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
