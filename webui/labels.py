"""Every Vietnamese word the web app says outside its templates, in one place (the facets' labels come
with their values from `search.facets`)."""

from search.facets import UNDATED, UNKNOWN_PLACE  # noqa: F401  (what the pages call what has no place or date)

SORT_LABELS = (("relevance", "Liên quan nhất"), ("newest", "Mới nhất"), ("oldest", "Cũ nhất"))

# What a selected filter is called on its chip
FILTER_KINDS = {"region": "Vùng", "province": "Tỉnh/thành", "district": "Quận/huyện", "date": "Thời gian"}
UNTITLED = "Bài không có tiêu đề"

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không được phép",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    413: "Yêu cầu quá lớn",
    500: "Đã có lỗi xảy ra",
    503: "Dịch vụ tạm thời không sẵn sàng",
}
OTHER_ERROR_TITLE = "Có lỗi xảy ra"

ERROR_MESSAGES = {
    404: "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.",
    405: "Trang này không nhận yêu cầu theo cách đó.",
    500: "Máy chủ gặp sự cố khi xử lý yêu cầu. Xin thử lại sau ít phút.",
    503: ("Chỉ mục tìm kiếm chưa sẵn sàng. Người quản trị cần chạy lệnh «vnsearch index» "
          "(hoặc «vnsearch index --rebuild» nếu máy chủ báo chỉ mục bị hỏng)."),
}
OTHER_ERROR_MESSAGE = "Không thể xử lý yêu cầu này."

VI_PARAMETER = {
    "q": "từ khóa",
    "region": "vùng",
    "province": "tỉnh/thành phố",
    "district": "quận/huyện",
    "from": "ngày bắt đầu",
    "to": "ngày kết thúc",
    "sort": "cách sắp xếp",
    "page": "số trang",
    "limit": "số kết quả mỗi trang",
}


def vietnamese_message(error, params):
    """A plain Vietnamese sentence for a BadParameter."""
    name = error.name
    value = params.get(name, "")
    if name == "to" and "before" in error.message:
        return (f"Ngày kết thúc ({params.get('to', '')}) đứng trước ngày bắt đầu ({params.get('from', '')}): "
                "hãy chọn lại khoảng thời gian.")
    if name in ("from", "to"):
        return f"{VI_PARAMETER[name].capitalize()} «{value}» không phải là một ngày: dùng dạng YYYY-MM-DD hoặc DD/MM/YYYY."
    if name in _MESSAGES:
        return _MESSAGES[name].format(value=value)
    return f"Giá trị «{value}» của {VI_PARAMETER.get(name, name)} không hợp lệ."


_MESSAGES = {  # parameter: what is said of a value it cannot take
    "page": "Số trang «{value}» không hợp lệ: số trang phải là số nguyên từ 1 đến 1000.",
    "limit": "Số kết quả mỗi trang «{value}» không hợp lệ: phải là số nguyên từ 1 đến 100.",
    "sort": "Cách sắp xếp «{value}» không hợp lệ: chọn relevance (liên quan), newest (mới nhất) hoặc oldest (cũ nhất).",
    "region": "Không có vùng nào tên «{value}».",
    "province": "Không có tỉnh/thành phố nào tên «{value}».",
    "district": "Không có quận/huyện nào tên «{value}».",
}
