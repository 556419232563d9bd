/* The intake's timestamp parser in C: `micros(text)` is `intake._fast_micros(text)`, the
 * epoch microseconds of the common RFC 3339 form YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|
 * -HH:MM), or -1 for any other text (the full parser then decides). Same checks, same
 * value; the Python function stays the reference and the fallback of a pure-Python
 * install (tests/core/test_intake.py holds them to each other). Built by setup.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define EXACT_MICROS (1LL << 53) /* beyond it a double cannot hold the value exactly */

static const int DAYS_IN_MONTH[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
static const long long SCALE[7] = {0, 100000, 10000, 1000, 100, 10, 1};

/* The number of the `count` digits at `s`, or -1 if one is not a digit. */
static int digits(const char *s, int count) {
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm); year >= 1. */
static long long days_from_civil(long long year, int month, int day) {
    if (month <= 2) {
        year -= 1;
    }
    long long era = year / 400; /* year >= 0 here: C division floors */
    long long yoe = year - era * 400;
    long long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static long long parse(const char *s, Py_ssize_t n) {
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
        return -1;
    }
    int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    if (year < 1 || month < 1 || month > 12 || day < 0 || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 59) {
        return -1;
    }
    int leap = month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (day < 1 || day > DAYS_IN_MONTH[month] + leap) {
        return -1;
    }
    Py_ssize_t i = 19;
    long long micros = 0;
    if (s[i] == '.') {
        Py_ssize_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9') {
            j++;
        }
        Py_ssize_t count = j - i - 1;
        if (count < 1 || count > 6) {
            return -1;
        }
        micros = digits(s + i + 1, (int)count) * SCALE[count];
        i = j;
    }
    long long offset;
    if (n - i == 1 && s[i] == 'Z') {
        offset = 0;
    } else if (n - i == 6 && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int offset_hours = digits(s + i + 1, 2), offset_minutes = digits(s + i + 4, 2);
        if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) {
            return -1;
        }
        offset = (offset_hours * 3600LL + offset_minutes * 60LL) * (s[i] == '+' ? 1 : -1);
    } else {
        return -1;
    }
    long long total = (days_from_civil(year, month, day) * 86400 + hour * 3600LL +
                       minute * 60LL + second - offset) * 1000000LL + micros;
    if (total < 0 || total >= EXACT_MICROS) {
        return -1;
    }
    return total;
}

static PyObject *micros(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "micros() takes a str");
        return NULL;
    }
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        return PyLong_FromLong(-1);
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    return PyLong_FromLongLong(parse((const char *)PyUnicode_DATA(text), n));
}

static PyMethodDef METHODS[] = {
    {"micros", micros, METH_O,
     "Epoch microseconds of YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM), or -1."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_timestamp", "The intake's timestamp parser in C.", -1, METHODS,
};

PyMODINIT_FUNC PyInit__timestamp(void) { return PyModule_Create(&MODULE); }
