"""The class board (teacher mode): the whole class's trainings of the day, for the projector."""

import streamlit as st

from ui.board import class_board
from ui.owners import is_teacher
from ui.session import through_entry_script

through_entry_script("board")

st.title("Class board")
if not is_teacher():  # not in a student's navigation; a link to it still shows nothing of anyone's
    st.info("This page is the teacher's: it shows the whole class's trainings in teacher mode.", icon=":material/lock:")
    st.stop()
st.caption("Every training running or finished since the time below; it refreshes by itself.")
class_board()
