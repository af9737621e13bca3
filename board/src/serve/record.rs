//! Recording a publish to an FLV file.

use super::*;

/// One publish written to an FLV file.
pub(super) struct Recorder {
    file: BufWriter<File>,
    pub(super) path: PathBuf,
    pub(super) tags: u64,
}

impl Recorder {
    pub(super) fn create(path: &Path) -> io::Result<Recorder> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = BufWriter::with_capacity(256 * 1024, File::create(path)?);
        file.write_all(&flv::file_header(true, true))?;
        Ok(Recorder { file, path: path.to_path_buf(), tags: 0 })
    }

    pub(super) fn write(&mut self, f: &Frame) -> io::Result<()> {
        let kind = TagType::from_byte(f.type_id);
        let len = f.body.len();
        self.file.write_all(&flv::tag_header(kind, f.timestamp.0, len))?;
        self.file.write_all(&f.body)?;
        self.file.write_all(&flv::previous_tag_size(len))?;
        self.tags += 1;
        Ok(())
    }

    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.file.flush();
    }
}
