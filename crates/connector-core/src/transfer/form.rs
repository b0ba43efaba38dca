//! A `multipart/form-data` body (RFC 7578) framed around an [`UploadBody`]: the text
//! fields and the file part's headers before it, the closing boundary after it. The total
//! length is known before the first byte, so the core's [`crate::retry::send_upload_with`]
//! sends it with a `Content-Length` under the idle watchdog, and retries it exactly when
//! the file's own body could be sent again (Dataverse's `POST /api/datasets/{id}/add`).

use bytes::Bytes;

use super::upload::UploadBody;

/// The framed body and its `Content-Type` (with the boundary).
pub struct FormUpload {
    pub body: UploadBody,
    pub content_type: String,
}

/// A quoted-string parameter value: `"` and `\` escaped, line breaks (which would end the
/// header) replaced by spaces, as browsers do for file names.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\\' => out.push_str("\\\\"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `fields` (name, text value) then the file part `file_field` named `file_name` of type
/// `file_type` carrying `file`.
pub fn form_data(
    fields: &[(&str, &str)],
    file_field: &str,
    file_name: &str,
    file_type: &str,
    file: UploadBody,
) -> FormUpload {
    let boundary = format!("rds-form-{}", uuid::Uuid::new_v4().simple());
    let mut prefix = String::new();
    for (name, value) in fields {
        prefix.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name={}\r\n\r\n{value}\r\n",
            quoted(name)
        ));
    }
    let file_type: String = file_type.chars().filter(|c| !c.is_control()).collect();
    prefix.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name={}; filename={}\r\nContent-Type: {file_type}\r\n\r\n",
        quoted(file_field),
        quoted(file_name)
    ));
    let suffix = format!("\r\n--{boundary}--\r\n");
    FormUpload {
        body: UploadBody::Framed {
            prefix: Bytes::from(prefix),
            inner: Box::new(file),
            suffix: Bytes::from(suffix),
        },
        content_type: format!("multipart/form-data; boundary={boundary}"),
    }
}

/// Text fields alone (Dataverse's direct-upload registration: `jsonData` only).
pub fn fields_only(fields: &[(&str, &str)]) -> FormUpload {
    let boundary = format!("rds-form-{}", uuid::Uuid::new_v4().simple());
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name={}\r\n\r\n{value}\r\n",
            quoted(name)
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    FormUpload {
        body: UploadBody::Memory(Bytes::from(body)),
        content_type: format!("multipart/form-data; boundary={boundary}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::retry::Idempotency;
    use futures_util::StreamExt as _;

    async fn collect(body: &mut UploadBody) -> Vec<u8> {
        let mut s = body.attempt().unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn frames_fields_and_the_file_with_the_exact_length() {
        let file = UploadBody::Memory(Bytes::from_static(b"a,b\n1,2\n"));
        let mut form = form_data(
            &[("jsonData", r#"{"directoryLabel":"x/y"}"#)],
            "file",
            "da\"ta.csv",
            "text/csv",
            file,
        );
        let boundary = form
            .content_type
            .split("boundary=")
            .nth(1)
            .unwrap()
            .to_owned();
        assert!(form
            .content_type
            .starts_with("multipart/form-data; boundary="));
        let len = form.body.length();
        assert_eq!(form.body.idempotency(), Idempotency::Idempotent);
        let bytes = collect(&mut form.body).await;
        assert_eq!(bytes.len() as u64, len);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"jsonData\"\r\n\r\n{{\"directoryLabel\":\"x/y\"}}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"da%22ta.csv\"\r\nContent-Type: text/csv\r\n\r\n\
                 a,b\n1,2\n\r\n--{boundary}--\r\n"
            )
        );
        // Memory can be sent again: a second attempt gives the same bytes.
        assert_eq!(collect(&mut form.body).await.len() as u64, len);
    }

    #[tokio::test]
    async fn fields_alone() {
        let mut form = fields_only(&[("jsonData", "{}")]);
        let boundary = form
            .content_type
            .split("boundary=")
            .nth(1)
            .unwrap()
            .to_owned();
        let text = String::from_utf8(collect(&mut form.body).await).unwrap();
        assert_eq!(
            text,
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"jsonData\"\r\n\r\n{{}}\r\n--{boundary}--\r\n")
        );
    }

    #[tokio::test]
    async fn a_stream_is_framed_once() {
        let stream: crate::interface::ByteStream =
            Box::pin(futures_util::stream::iter([Ok(Bytes::from_static(b"xyz"))]));
        let mut form = form_data(
            &[],
            "file",
            "x",
            "application/octet-stream",
            UploadBody::Stream {
                body: Some(stream),
                len: 3,
            },
        );
        assert_eq!(form.body.idempotency(), Idempotency::Single);
        let first = collect(&mut form.body).await;
        assert_eq!(first.len() as u64, form.body.length());
        assert!(
            form.body.attempt().is_err(),
            "a stream cannot be sent twice"
        );
    }
}
