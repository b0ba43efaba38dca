//! Prints registration payloads of sample descriptors (an OAuth2 and a Login service) as
//! a JSON array; `ci/check_rds_library.py` feeds them to RDS's own library.

mod samples;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let payloads = samples::payloads()?;
    println!("{}", serde_json::to_string_pretty(&payloads)?);
    Ok(())
}
